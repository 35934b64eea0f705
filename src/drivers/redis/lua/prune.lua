--[[
  Forget one ended run whose final audit file is written: its hash, claim and chat ledger
  entries, and every index that names it. Checked here again, so a run that changed since the
  caller read it, or that another process pruned first, is left alone.

  KEYS[1]   run hash          <p>:run:<id>
  KEYS[2]   audited marks     <p>:audited         (hash: SOP name -> seq)
  KEYS[3]   claim             <p>:claim:<id>
  KEYS[4]   all runs          <p>:runs
  KEYS[5]   SOP's runs        <p>:sop:<name>:runs
  KEYS[6]   status index      <p>:sop:<name>:status:<status>
  KEYS[7]   status, all SOPs  <p>:status:<status>
  KEYS[8]   ended runs        <p>:ended
  KEYS[9]   sealed            <p>:sop:<name>:sealed
  KEYS[10]  deadlines         <p>:deadlines
  KEYS[11]  line              <p>:sop:<name>:line
  KEYS[12]  blocked           <p>:sop:<name>:blocked
  KEYS[13..16] chat ledger    <p>:chat:slack:<id>, its :claim, <p>:chat:discord:<id>, its :claim

  ARGV[1]   run id
  ARGV[2]   SOP name
  ARGV[3]   status (the one KEYS[6] and KEYS[7] index)
  ARGV[4]   ended before (epoch ms): only a run that ended before it

  Returns
    1  pruned
    0  left alone (another status, not ended before, or its audit file not known written)
   -1  never prunable, so taken out of the ended index: its hash is gone, or it ended before
       runs were sealed (no seal). Without this, such runs would stay first in line for good.
]]
local rcall = redis.call
local id, sop = ARGV[1], ARGV[2]

local h = rcall("HMGET", KEYS[1], "status", "sop", "seal")
if not h[1] or (ENDED[h[1]] and not h[3]) then
  rcall("ZREM", KEYS[8], id)
  return -1
end
if h[1] ~= ARGV[3] or not ENDED[h[1]] or h[2] ~= sop then return 0 end
local endedAt = tonumber(rcall("ZSCORE", KEYS[8], id))
if endedAt == nil or endedAt >= tonumber(ARGV[4]) then return 0 end
local seq = tonumber(cjson.decode(h[3]).seq)
local audited = tonumber(rcall("HGET", KEYS[2], sop)) or 0
if seq == nil or seq > audited then return 0 end

rcall("DEL", KEYS[1], KEYS[3], KEYS[13], KEYS[14], KEYS[15], KEYS[16])
for i = 4, 12 do
  if i ~= 9 then rcall("ZREM", KEYS[i], id) end
end
-- Only this run's place in the chain: a later run may hold the same score only if the chain was rewritten, never here.
rcall("ZREM", KEYS[9], id)
return 1
