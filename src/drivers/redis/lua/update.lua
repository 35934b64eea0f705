--[[
  Compare-and-set of a run's state: replace it only when its stored revision is still the one
  the caller read. The indexes move with it: the run joins its new status index, and it is in
  the line exactly while it is queued without a slot. The slot is not touched: a run holds it,
  whatever its status, until released.

  KEYS[1]    run hash      <p>:run:<id>
  KEYS[2]    line          <p>:sop:<name>:line
  KEYS[3..]  status index  <p>:sop:<name>:status:<status>, one key per run status

  ARGV[1]    run id
  ARGV[2]    expected revision
  ARGV[3]    RunState JSON
  ARGV[4]    new revision
  ARGV[5]    new status
  ARGV[6]    SOP name the new state names
  ARGV[7]    queuedAt (epoch ms): the score in the status index
  ARGV[8..]  the status each of KEYS[3..] indexes, in the same order

  Returns
     1  updated
     0  no such run, or its revision is not the expected one
    -1  the stored run belongs to another SOP than the new state names
]]
local rcall = redis.call
local id, status = ARGV[1], ARGV[5]

local current = rcall("HMGET", KEYS[1], "rev", "status", "sop", "slot", "order")
if current[1] == false or tonumber(current[1]) ~= tonumber(ARGV[2]) then return 0 end
if current[3] ~= ARGV[6] then return -1 end

local from, to
for i = 3, #KEYS do
  if ARGV[i + 5] == current[2] then from = KEYS[i] end
  if ARGV[i + 5] == status then to = KEYS[i] end
end
-- Checked before any write: a script that fails half-way keeps its earlier writes.
if to == nil then return redis.error_reply("update: no status index for " .. status) end

rcall("HSET", KEYS[1], "run", ARGV[3], "rev", ARGV[4], "status", status)

if from ~= nil and from ~= to then rcall("ZREM", from, id) end
rcall("ZADD", to, ARGV[7], id)

if status == "queued" and current[4] ~= "1" then
  rcall("ZADD", KEYS[2], current[5], id)
else
  rcall("ZREM", KEYS[2], id)
end
return 1
