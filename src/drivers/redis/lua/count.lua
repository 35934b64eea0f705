--[[
  How many runs the given status indexes hold together: one command for what would be one ZCARD
  per status (a caller awaiting a queued run asks this of its SOP's waiting statuses).

  KEYS[1..n] status index  <p>:sop:<name>:status:<status>

  Returns
    the sum of their sizes
]]
local total = 0
for _, key in ipairs(KEYS) do total = total + redis.call("ZCARD", key) end
return total
