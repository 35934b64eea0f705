--[[
  Free a run's slot and say whom to nudge: with k slots free, the first k runs whose start was
  refused for want of a slot (runs that never tried have a job of their own on the way). A run
  that gives its slot back while still queued goes back into the line at its old place.

  KEYS[1] run hash  <p>:run:<id>
  KEYS[2] line      <p>:sop:<name>:line
  KEYS[3] slots     <p>:sop:<name>:slots
  KEYS[4] blocked   <p>:sop:<name>:blocked

  ARGV[1] run id
  ARGV[2] max_concurrent

  Returns
    the ids of the first k refused runs, first in line first, k = free slots; they leave the
    blocked set (an empty array when the run does not exist or no slot is free)
]]
local rcall = redis.call
local id = ARGV[1]

local run = rcall("HMGET", KEYS[1], "status", "slot", "order")
if run[1] == false then return {} end
if run[2] == "1" then
  rcall("HSET", KEYS[1], "slot", "0")
  -- Back in line, and nudged: its job already ran and will not look again by itself.
  if run[1] == "queued" then
    rcall("ZADD", KEYS[2], run[3], id)
    rcall("ZADD", KEYS[4], run[3], id)
  end
end
rcall("SREM", KEYS[3], id)
local free = tonumber(ARGV[2]) - rcall("SCARD", KEYS[3])
if free <= 0 then return {} end
-- Blocked runs that left the line meanwhile (cancelled, started) are dropped on the way.
local ids = {}
while #ids < free do
  local batch = rcall("ZRANGE", KEYS[4], 0, free - #ids - 1)
  if #batch == 0 then break end
  rcall("ZREM", KEYS[4], unpack(batch))
  for _, candidate in ipairs(batch) do
    if rcall("ZSCORE", KEYS[2], candidate) then ids[#ids + 1] = candidate end
  end
end
return ids
