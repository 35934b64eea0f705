--[[
  One transition of a run, atomically with what it implies:
  - compare-and-set: the state is replaced only when its stored revision is the one the caller read;
  - starting (queued -> running or waiting): only when a slot is free for it. A slot is held by
    every run of the SOP that runs or waits for a person; with k free, the first k of the line
    may start (higher priority first, then earlier, then by id). A run refused joins "blocked";
  - ending: the seal joins the SOP's hash chain, only from the head the caller read, with the
    final record beside it; the slot frees, and with k slots free the first k blocked runs still
    queued are returned, to be nudged (runs that never tried have a job of their own on the way,
    so a run ending never nudges the whole line).
  The indexes move with the state: the run is in its status index, and in the line while queued.
  With a claim owner (ARGV[14]), the change is also the driver's claim (see claim.lua): refused
  while another owner holds an unexpired claim, else the claim is taken or renewed until ARGV[16],
  or dropped when ARGV[16] is "" (nothing left for the driver to run), in the same step.
  The history indexes follow the hash last (history-index.lua, which scripts.ts puts before
  this), whatever the transition did.

  KEYS[1]    run hash      <p>:run:<id>
  KEYS[2]    line          <p>:sop:<name>:line
  KEYS[3]    chain heads   <p>:chains          (hash: SOP name -> head JSON)
  KEYS[4]    sealed        <p>:sop:<name>:sealed (run ids scored by seq)
  KEYS[5]    blocked       <p>:sop:<name>:blocked (queued runs refused a slot, scored like the line)
  KEYS[6]    deadlines     <p>:deadlines         (runs going on, scored by their earliest deadline)
  KEYS[7]    claim         <p>:claim:<id>        (string "<until epoch ms>|<owner>")
  KEYS[8..7+n]  status index  <p>:sop:<name>:status:<status>, one key per run status (n of them)
  KEYS[8+n]     all runs      <p>:runs
  KEYS[9+n]     SOP's runs    <p>:sop:<name>:runs
  KEYS[10+n]    ended runs    <p>:ended
  KEYS[11+n..]  status index  <p>:status:<status>, one key per run status across SOPs, in the same order

  ARGV[1]    run id
  ARGV[2]    expected revision
  ARGV[3]    RunState JSON
  ARGV[4]    new revision
  ARGV[5]    new status
  ARGV[6]    SOP name the new state names
  ARGV[7]    queuedAt (epoch ms): the score in the status index
  ARGV[8]    seal JSON, or "" when the run does not end
  ARGV[9]    final record JSON (with the ending)
  ARGV[10]   seal seq (with the ending)
  ARGV[11]   seal prev hash: the hash of the head the caller read (with the ending)
  ARGV[12]   seal hash (with the ending)
  ARGV[13]   the run's earliest deadline (epoch ms), or "" for none
  ARGV[14]   claim owner, or "" when the change is not a driver's (the claim is left alone)
  ARGV[15]   now (epoch ms, the claimant's clock; with a claim owner)
  ARGV[16]   claim until (epoch ms), or "" to give the claim up with the change
  ARGV[17]   how long Redis keeps the claim key (ms; with a claim held)
  ARGV[18]   completedAt of the new state (epoch ms), or "" when it has none: the ended index's
             score, so that the run's JSON need not be decoded here
  ARGV[19]   this write's token, unique to the call (see "Sent twice" below)
  ARGV[20..] the status each of KEYS[8..7+n] (and KEYS[11+n..]) indexes, in the same order

  Sent twice: a client resends a command whose reply a dropped connection lost (ioredis does, by
  default), so the same write may come again after it landed. The run keeps the token and answer
  of its last write: the same token at the revision that write made is answered as it was, and
  changes nothing. Otherwise the revision check would refuse it, and the caller would take a change
  that landed for one that did not (no events, no nudges, an approval answered as refused).

  Returns (an error reply from the indexes goes before these)
    {1, id…}  updated; the ids are blocked runs to nudge now that a slot is free (only when the run ended)
    {0}       no such run, or its revision is not the expected one
    {-1}      the stored run belongs to another SOP than the new state names
    {-2}      a queued run may not start: no slot is free for it
    {-3, head} the chain head moved since the caller read it; head is its JSON now ("" for none)
    {-4}      another owner holds an unexpired claim on the run (only with a claim owner)
]]
local rcall = redis.call
local id, status = ARGV[1], ARGV[5]
local GENESIS = string.rep("0", 64)
local ACTIVE = { running = true, awaiting_approval = true, awaiting_manual = true }
local n = #ARGV - 19

local function transition()
  local current = rcall("HMGET", KEYS[1], "rev", "status", "sop", "order", "max", "wtok", "wres")
  if current[1] == false then return {0} end
  if tonumber(current[1]) ~= tonumber(ARGV[2]) then
    if tonumber(current[1]) ~= tonumber(ARGV[4]) or current[6] ~= ARGV[19] then return {0} end
    -- This very write, sent again: answered as it was the first time.
    local answer = {1}
    for queuedId in string.gmatch(current[7] or "", "[^,]+") do answer[#answer + 1] = queuedId end
    return answer
  end
  if current[3] ~= ARGV[6] then return {-1} end
  local was = current[2]
  local max = tonumber(current[5]) or 1

  local from, to
  local active = {}
  for i = 8, 7 + n do
    local s = ARGV[i + 12]
    if s == was then from = KEYS[i] end
    if s == status then to = KEYS[i] end
    if ACTIVE[s] then active[#active + 1] = KEYS[i] end
  end
  -- Checked before any write: a script that fails half-way keeps its earlier writes.
  if to == nil then return redis.error_reply("update: no status index for " .. status) end

  local function activeCount()
    local n = 0
    for _, key in ipairs(active) do n = n + rcall("ZCARD", key) end
    return n
  end

  -- Before the slot check, which writes (a refused start joins "blocked"): a refusal changes nothing.
  local owner = ARGV[14]
  if owner ~= "" then
    local held = rcall("GET", KEYS[7])
    if held then
      local sep = string.find(held, "|", 1, true)
      if string.sub(held, sep + 1) ~= owner and tonumber(string.sub(held, 1, sep - 1)) > tonumber(ARGV[15]) then return {-4} end
    end
  end

  if was == "queued" and ACTIVE[status] then
    local free = max - activeCount()
    local rank = rcall("ZRANK", KEYS[2], id)
    if free <= 0 or (rank ~= false and rank >= free) then
      rcall("ZADD", KEYS[5], current[4], id)
      return {-2}
    end
  end

  local ends = ENDED[status] and not ENDED[was]
  if ends then
    if ARGV[8] == "" then return redis.error_reply("update: a run cannot end without its seal") end
    local seq, hash = 0, GENESIS
    local head = rcall("HGET", KEYS[3], current[3])
    if head then
      local decoded = cjson.decode(head)
      seq, hash = decoded.seq, decoded.hash
    end
    if tonumber(ARGV[10]) ~= seq + 1 or ARGV[11] ~= hash then return {-3, head or ""} end
    rcall("HSET", KEYS[3], current[3], cjson.encode({ seq = tonumber(ARGV[10]), hash = ARGV[12], runId = id }))
    rcall("ZADD", KEYS[4], ARGV[10], id)
    rcall("HSET", KEYS[1], "seal", ARGV[8], "record", ARGV[9])
  end

  rcall("HSET", KEYS[1], "run", ARGV[3], "rev", ARGV[4], "status", status, "wtok", ARGV[19], "wres", "")
  if from ~= nil and from ~= to then rcall("ZREM", from, id) end
  rcall("ZADD", to, ARGV[7], id)
  if status == "queued" then
    rcall("ZADD", KEYS[2], current[4], id)
  else
    rcall("ZREM", KEYS[2], id)
    rcall("ZREM", KEYS[5], id)
  end
  if ARGV[13] == "" then rcall("ZREM", KEYS[6], id) else rcall("ZADD", KEYS[6], ARGV[13], id) end
  if owner ~= "" then
    -- Checked above: the claim is the caller's, expired, or nobody's.
    if ARGV[16] == "" then rcall("DEL", KEYS[7]) else rcall("SET", KEYS[7], ARGV[16] .. "|" .. owner, "PX", ARGV[17]) end
  end

  local result = {1}
  if ends then
    local free = max - activeCount()
    -- Blocked runs that left the line meanwhile (cancelled, started) are dropped on the way.
    while #result - 1 < free do
      local batch = rcall("ZRANGE", KEYS[5], 0, free - #result)
      if #batch == 0 then break end
      rcall("ZREM", KEYS[5], unpack(batch))
      for _, queuedId in ipairs(batch) do
        if rcall("ZSCORE", KEYS[2], queuedId) then result[#result + 1] = queuedId end
      end
    end
    if #result > 1 then rcall("HSET", KEYS[1], "wres", table.concat(result, ",", 2)) end
  end
  return result
end

local result = transition()
local anyStatus, statuses = statusIndexes(11 + n, 20, n)
-- The hash holds the new state only when the change landed; otherwise the index reads its own.
local completedAt = nil
if result[1] == 1 and ARGV[18] ~= "" then completedAt = ARGV[18] end
local indexed = indexHistory({ KEYS[1], KEYS[8 + n], KEYS[9 + n], KEYS[10 + n] }, anyStatus, statuses, id, ARGV[6], ARGV[7], completedAt)
if type(indexed) == "table" and indexed.err then return indexed end
return result
