--[[
  Free a run's slot and say who waits. A run that gives its slot back while still queued goes
  back into the line at its old place.

  KEYS[1] run hash  <p>:run:<id>
  KEYS[2] line      <p>:sop:<name>:line
  KEYS[3] slots     <p>:sop:<name>:slots

  ARGV[1] run id

  Returns
    the ids of the SOP's queued runs without a slot, first in line first
    (an empty array when the run does not exist)
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
return rcall("ZRANGE", KEYS[2], 0, -1)
