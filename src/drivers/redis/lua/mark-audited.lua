--[[
  Record how far an SOP's audit files are written (what prune may remove up to). A mark never
  moves back, also when two processes mark at once.

  KEYS[1] audited marks  <p>:audited  (hash: SOP name -> seq)

  ARGV[1] SOP name
  ARGV[2] seq

  Returns
    1  moved forward
    0  already at or past it
]]
local current = tonumber(redis.call("HGET", KEYS[1], ARGV[1])) or 0
if tonumber(ARGV[2]) <= current then return 0 end
redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
return 1
