--[[
  Move an SOP's audit chain head from the head the caller read to the next one, atomically, so
  two processes sealing runs of one SOP at once never hand out the same seq. Heads compare by
  seq and hash; an SOP without a head is at seq 0 with the genesis hash (64 zeros).

  KEYS[1] chain heads  <p>:chains   (hash: SOP name -> head JSON)

  ARGV[1] SOP name
  ARGV[2] expected seq
  ARGV[3] expected hash
  ARGV[4] next head JSON

  Returns
    1  moved
    0  the head is not the expected one
]]
local rcall = redis.call

local seq, hash = 0, string.rep("0", 64)
local stored = rcall("HGET", KEYS[1], ARGV[1])
if stored then
  local head = cjson.decode(stored)
  seq, hash = head.seq, head.hash
end
if seq ~= tonumber(ARGV[2]) or hash ~= ARGV[3] then return 0 end
rcall("HSET", KEYS[1], ARGV[1], ARGV[4])
return 1
