--[[
  Free a run's slot and say who may start now: with k slots free, the first k of the line. A
  run that gives its slot back while still queued goes back into the line at its old place.

  KEYS[1] run hash  <p>:run:<id>
  KEYS[2] line      <p>:sop:<name>:line
  KEYS[3] slots     <p>:sop:<name>:slots

  ARGV[1] run id
  ARGV[2] max_concurrent

  Returns
    the ids of the first k queued runs without a slot, first in line first, k = free slots
    (an empty array when the run does not exist or no slot is free)
]]
local rcall = redis.call
local id = ARGV[1]

local run = rcall("HMGET", KEYS[1], "status", "slot", "order")
if run[1] == false then return {} end
if run[2] == "1" then
  rcall("HSET", KEYS[1], "slot", "0")
  if run[1] == "queued" then rcall("ZADD", KEYS[2], run[3], id) end
end
rcall("SREM", KEYS[3], id)
local free = tonumber(ARGV[2]) - rcall("SCARD", KEYS[3])
if free <= 0 then return {} end
return rcall("ZRANGE", KEYS[2], 0, free - 1)
