--[[
  Bring a run's history indexes in line with its hash (see history-index.lua, which scripts.ts
  puts before this): what the one-time indexing of runs stored before the indexes existed runs
  per run. admit.lua and update.lua do the same for the run they change.

  KEYS[1]    run hash      <p>:run:<id>
  KEYS[2]    all runs      <p>:runs
  KEYS[3]    SOP's runs    <p>:sop:<name>:runs
  KEYS[4]    ended runs    <p>:ended
  KEYS[5..]  status index  <p>:status:<status>, one key per run status

  ARGV[1]    run id
  ARGV[2]    SOP name (nothing is indexed when the hash names another)
  ARGV[3]    queuedAt (epoch ms)
  ARGV[4..]  the status each of KEYS[5..] indexes, in the same order

  Returns
    1  the indexes changed
    0  nothing to do (no such run, another SOP's, or already in line)
]]
local anyStatus, statuses = statusIndexes(5, 4, #KEYS - 4)
return indexHistory({ KEYS[1], KEYS[2], KEYS[3], KEYS[4] }, anyStatus, statuses, ARGV[1], ARGV[2], ARGV[3])
