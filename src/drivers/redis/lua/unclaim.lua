--[[
  Give up the claim on a run, only when the caller holds it (an expired claim another process
  took over is not ours to drop).

  KEYS[1] claim  <p>:claim:<run id>

  ARGV[1] owner

  Returns
    1  dropped
    0  not held by the caller
]]
local held = redis.call("GET", KEYS[1])
if not held then return 0 end
local sep = string.find(held, "|", 1, true)
if string.sub(held, sep + 1) ~= ARGV[1] then return 0 end
redis.call("DEL", KEYS[1])
return 1
