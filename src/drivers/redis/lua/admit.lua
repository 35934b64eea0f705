--[[
  Admit a new run: refuse it while its SOP cools down (unless forced), else store it, index it
  and record the acceptance time. One script, so two processes admitting at once under a
  cooldown accept exactly one run.

  KEYS[1] run hash            <p>:run:<id>
  KEYS[2] definition          <p>:def:<sha256 of the definition JSON>
  KEYS[3] last acceptance     <p>:sop:<name>:last
  KEYS[4] status index        <p>:sop:<name>:status:<status of the new run>
  KEYS[5] line                <p>:sop:<name>:line
  KEYS[6] slots               <p>:sop:<name>:slots
  KEYS[7] SOP names           <p>:sops

  ARGV[1]  run id
  ARGV[2]  SOP name
  ARGV[3]  RunState JSON
  ARGV[4]  revision
  ARGV[5]  status
  ARGV[6]  SOP folder (dir)
  ARGV[7]  definition sha256 (hex)
  ARGV[8]  definition JSON (stored only if no run pinned the same definition before)
  ARGV[9]  holds a slot: "1" or "0"
  ARGV[10] seal JSON, or "" for none
  ARGV[11] now (epoch ms)
  ARGV[12] cooldown (ms)
  ARGV[13] force: "1" or "0"
  ARGV[14] queuedAt (epoch ms): the score in the status index
  ARGV[15] line score: priority rank * 1e13 + queuedAt

  Returns
    {1}               accepted
    {0, remainingMs}  refused: the SOP cools down for remainingMs more
    {-1}              a run with this id already exists
]]
local rcall = redis.call
local id, sop = ARGV[1], ARGV[2]

if rcall("EXISTS", KEYS[1]) == 1 then return {-1} end

local now = tonumber(ARGV[11])
local cooldownMs = tonumber(ARGV[12])
local last = tonumber(rcall("GET", KEYS[3]))
if ARGV[13] ~= "1" and cooldownMs > 0 and last ~= nil then
  local remaining = last + cooldownMs - now
  if remaining > 0 then return {0, remaining} end
end

rcall("SET", KEYS[2], ARGV[8], "NX")
rcall("HSET", KEYS[1], "run", ARGV[3], "rev", ARGV[4], "status", ARGV[5], "sop", sop,
  "dir", ARGV[6], "def", ARGV[7], "slot", ARGV[9], "order", ARGV[15])
if ARGV[10] ~= "" then rcall("HSET", KEYS[1], "seal", ARGV[10]) end

rcall("ZADD", KEYS[4], ARGV[14], id)
if ARGV[9] == "1" then
  rcall("SADD", KEYS[6], id)
elseif ARGV[5] == "queued" then
  rcall("ZADD", KEYS[5], ARGV[15], id)
end
rcall("SADD", KEYS[7], sop)

-- A forced run may be admitted with an older clock than the last one; the cooldown runs from the latest.
if last == nil or now > last then rcall("SET", KEYS[3], ARGV[11]) end
return {1}
