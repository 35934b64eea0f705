--[[
  Record the seal of an ended run's audit record, only on a run that exists (HSET alone would
  create a stray hash for an unknown id).

  KEYS[1] run hash  <p>:run:<id>

  ARGV[1] seal JSON

  Returns
    1  sealed
    0  no such run
]]
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
redis.call("HSET", KEYS[1], "seal", ARGV[1])
return 1
