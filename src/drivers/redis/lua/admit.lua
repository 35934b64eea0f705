--[[
  Admit a new run: refuse it while its SOP cools down (unless forced), else store it, index it
  and record the acceptance time. One script, so two processes admitting at once under a
  cooldown accept exactly one run. Its history indexes move with it (history-index.lua, which
  scripts.ts puts before this), in the same step.

  KEYS[1] run hash            <p>:run:<id>
  KEYS[2] definition          <p>:def:<sha256 of the definition JSON>
  KEYS[3] last acceptance     <p>:sop:<name>:last
  KEYS[4] status index        <p>:sop:<name>:status:queued
  KEYS[5] line                <p>:sop:<name>:line
  KEYS[6] SOP names           <p>:sops
  KEYS[7] all runs            <p>:runs
  KEYS[8] SOP's runs          <p>:sop:<name>:runs
  KEYS[9] ended runs          <p>:ended
  KEYS[10..] status index     <p>:status:<status>, one key per run status (across SOPs)

  ARGV[1]  run id
  ARGV[2]  SOP name
  ARGV[3]  RunState JSON (status queued)
  ARGV[4]  revision
  ARGV[5]  SOP folder (dir)
  ARGV[6]  definition sha256 (hex)
  ARGV[7]  definition JSON (stored only if no run pinned the same definition before), or "" when
           the caller saw it stored already
  ARGV[8]  max_concurrent of the pinned definition: the slots this run may start within
  ARGV[9]  now (epoch ms)
  ARGV[10] cooldown (ms)
  ARGV[11] force: "1" or "0"
  ARGV[12] queuedAt (epoch ms): the score in the status index
  ARGV[13] line score: priority rank * 1e13 + queuedAt
  ARGV[14] this admission's token, unique to the call: the same admission sent again after its
           reply was lost (a client resends it) finds it on the run and is answered as accepted
  ARGV[15..] the status each of KEYS[10..] indexes, in the same order

  Returns
    {1}               accepted (also when this admission, sent again, was accepted before)
    {0, remainingMs}  refused: the SOP cools down for remainingMs more
    {-1}              another run with this id already exists
    {-2}              ARGV[7] is "" and the definition is not stored (flushed, or deleted): send it
]]
local rcall = redis.call
local id, sop = ARGV[1], ARGV[2]

local function admit()
  if rcall("EXISTS", KEYS[1]) == 1 then
    if rcall("HGET", KEYS[1], "atok") == ARGV[14] then return {1} end
    return {-1}
  end

  local now = tonumber(ARGV[9])
  local cooldownMs = tonumber(ARGV[10])
  local last = tonumber(rcall("GET", KEYS[3]))
  if ARGV[11] ~= "1" and cooldownMs > 0 and last ~= nil then
    local remaining = last + cooldownMs - now
    if remaining > 0 then return {0, remaining} end
  end

  -- Checked before any write, in the same step: a run is never stored without its definition.
  if ARGV[7] == "" then
    if rcall("EXISTS", KEYS[2]) == 0 then return {-2} end
  else
    rcall("SET", KEYS[2], ARGV[7], "NX")
  end
  rcall("HSET", KEYS[1], "run", ARGV[3], "rev", ARGV[4], "status", "queued", "sop", sop,
    "dir", ARGV[5], "def", ARGV[6], "max", ARGV[8], "order", ARGV[13], "atok", ARGV[14])
  rcall("ZADD", KEYS[4], ARGV[12], id)
  rcall("ZADD", KEYS[5], ARGV[13], id)
  rcall("SADD", KEYS[6], sop)

  -- A forced run may be admitted with an older clock than the last one; the cooldown runs from the latest.
  if last == nil or now > last then rcall("SET", KEYS[3], ARGV[9]) end
  return {1}
end

local result = admit()
-- Whatever admit() did (a refusal changes nothing): the indexes follow the hash.
local anyStatus, statuses = statusIndexes(10, 15, #KEYS - 9)
local indexed = indexHistory({ KEYS[1], KEYS[7], KEYS[8], KEYS[9] }, anyStatus, statuses, id, sop, ARGV[12])
if type(indexed) == "table" and indexed.err then return indexed end
return result
