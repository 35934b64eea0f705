--[[
  Bring a run's history indexes in line with its hash: every run in the history of all runs and
  of its SOP (scored by queuedAt), in the index of its status across SOPs, and once ended in the
  index of ended runs (scored by completedAt). It reads the status from the hash, so it is right
  whether the admit or update it follows (in the same MULTI) changed anything or not, and running
  it twice is running it once. The hash field "ix" is the status the indexes hold.

  KEYS[1]    run hash      <p>:run:<id>
  KEYS[2]    all runs      <p>:runs
  KEYS[3]    SOP's runs    <p>:sop:<name>:runs
  KEYS[4]    ended runs    <p>:ended
  KEYS[5..]  status index  <p>:status:<status>, one key per run status

  ARGV[1]    run id
  ARGV[2]    SOP name (nothing is indexed when the hash names another)
  ARGV[3]    queuedAt (epoch ms)
  ARGV[4..]  the status each of KEYS[5..] indexes, in the same order

  Returns
    1  the indexes changed
    0  nothing to do (no such run, another SOP's, or already in line)
]]
local rcall = redis.call
local id = ARGV[1]
local ENDED = { success = true, failed = true, denied = true, cancelled = true, timed_out = true }

local h = rcall("HMGET", KEYS[1], "status", "sop", "ix")
local status, sop, indexed = h[1], h[2], h[3]
if not status or sop ~= ARGV[2] or status == indexed then return 0 end

local from, to
for i = 5, #KEYS do
  local s = ARGV[i - 1]
  if s == indexed then from = KEYS[i] end
  if s == status then to = KEYS[i] end
end
if to == nil then return redis.error_reply("index: no status index for " .. status) end

rcall("ZADD", KEYS[2], ARGV[3], id)
rcall("ZADD", KEYS[3], ARGV[3], id)
if from ~= nil then rcall("ZREM", from, id) end
rcall("ZADD", to, ARGV[3], id)
if ENDED[status] then
  local run = cjson.decode(rcall("HGET", KEYS[1], "run"))
  rcall("ZADD", KEYS[4], tonumber(run.completedAt) or tonumber(ARGV[3]), id)
end
rcall("HSET", KEYS[1], "ix", status)
return 1
