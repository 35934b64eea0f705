--[[
  Give a queued run one of its SOP's max_concurrent slots, when one is free and no queued run
  of the SOP is ahead of it in the line (higher priority first, then earlier, then by id).
  Slots held by runs of any status count until released. Idempotent: a run that already holds
  a slot gets yes again.

  KEYS[1] run hash  <p>:run:<id>
  KEYS[2] line      <p>:sop:<name>:line   (queued runs without a slot, scored in line order)
  KEYS[3] slots     <p>:sop:<name>:slots

  ARGV[1] run id
  ARGV[2] max_concurrent

  Returns
    1  the run holds a slot (now or already)
    0  no such run, not queued, no free slot, or another run is ahead of it
]]
local rcall = redis.call
local id = ARGV[1]

local run = rcall("HMGET", KEYS[1], "status", "slot")
if run[1] == false then return 0 end
if run[2] == "1" then return 1 end
if run[1] ~= "queued" then return 0 end
if rcall("SCARD", KEYS[3]) >= tonumber(ARGV[2]) then return 0 end
local first = rcall("ZRANGE", KEYS[2], 0, 0)[1]
if first ~= nil and first ~= id then return 0 end

rcall("SADD", KEYS[3], id)
rcall("HSET", KEYS[1], "slot", "1")
rcall("ZREM", KEYS[2], id)
return 1
