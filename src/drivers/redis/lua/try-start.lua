--[[
  Give a queued run one of its SOP's max_concurrent slots when, with k slots free, it is among
  the first k of the line (higher priority first, then earlier, then by id): the runs that
  start are always the ones first in line, and k of them may start at once.
  Slots held by runs of any status count until released. Idempotent: a run that already holds
  a slot gets yes again.

  KEYS[1] run hash  <p>:run:<id>
  KEYS[2] line      <p>:sop:<name>:line   (queued runs without a slot, scored in line order)
  KEYS[3] slots     <p>:sop:<name>:slots
  KEYS[4] blocked   <p>:sop:<name>:blocked (refused runs, scored like the line: who a release nudges)

  ARGV[1] run id
  ARGV[2] max_concurrent

  Returns
    1  the run holds a slot (now or already)
    0  no such run, not queued, or k or more runs are ahead of it with k slots free
]]
local rcall = redis.call
local id = ARGV[1]

local run = rcall("HMGET", KEYS[1], "status", "slot")
if run[1] == false then return 0 end
if run[2] == "1" then return 1 end
if run[1] ~= "queued" then return 0 end
local free = tonumber(ARGV[2]) - rcall("SCARD", KEYS[3])
local rank = rcall("ZRANK", KEYS[2], id)
if free <= 0 or (rank ~= false and rank >= free) then
  local score = rcall("ZSCORE", KEYS[2], id)
  if score then rcall("ZADD", KEYS[4], score, id) end
  return 0
end

rcall("ZREM", KEYS[4], id)
rcall("SADD", KEYS[3], id)
rcall("HSET", KEYS[1], "slot", "1")
rcall("ZREM", KEYS[2], id)
return 1
