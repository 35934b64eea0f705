--[[
  Take the right to drive a run, or renew it: granted when nobody holds it, the holder's claim
  expired, or the caller holds it already. Expiry is judged by the claimants' clocks (the value
  says until when), so a test clock can skip time; Redis forgets the key a while after that.

  KEYS[1] claim  <p>:claim:<run id>   (string "<until epoch ms>|<owner>")

  ARGV[1] owner
  ARGV[2] now (epoch ms)
  ARGV[3] until (epoch ms)
  ARGV[4] how long Redis keeps the key (ms)

  Returns
    1  the caller holds the claim until ARGV[3]
    0  another owner holds it, unexpired
]]
local held = redis.call("GET", KEYS[1])
if held then
  local sep = string.find(held, "|", 1, true)
  local untilMs = tonumber(string.sub(held, 1, sep - 1))
  local owner = string.sub(held, sep + 1)
  if owner ~= ARGV[1] and untilMs > tonumber(ARGV[2]) then return 0 end
end
redis.call("SET", KEYS[1], ARGV[3] .. "|" .. ARGV[1], "PX", ARGV[4])
return 1
