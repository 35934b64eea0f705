--[[
  Not a script of its own: scripts.ts puts this chunk (after run-statuses.lua) before index.lua,
  admit.lua and update.lua, which call it last, so a run's history indexes move in the same script
  as its hash.

  indexHistory brings a run's history indexes in line with its hash: the run in the history of
  all runs and of its SOP (scored by queuedAt), in the index of its status across SOPs, and once
  ended in the index of ended runs (scored by completedAt). It reads the status from the hash, so
  it is right whether the change before it changed anything or not, and running it twice is
  running it once. The hash field "ix" is the status the indexes hold.

  keys      { run hash, all runs, SOP's runs, ended runs }
  anyStatus { <p>:status:<status>, … }, one key per run status
  statuses  the status each of anyStatus indexes, in the same order
  completedAt  the run's completedAt when the caller knows it is the hash's (nil: read from its JSON)
  Returns 1 when the indexes changed, 0 when there was nothing to do (no such run, another SOP's,
  or already in line), or an error reply.
]]
local function indexHistory(keys, anyStatus, statuses, id, sop, queuedAt, completedAt)
  local h = redis.call("HMGET", keys[1], "status", "sop", "ix")
  local status, stored, indexed = h[1], h[2], h[3]
  if not status or stored ~= sop or status == indexed then return 0 end

  local from, to
  for i, s in ipairs(statuses) do
    if s == indexed then from = anyStatus[i] end
    if s == status then to = anyStatus[i] end
  end
  if to == nil then return redis.error_reply("index: no status index for " .. status) end

  redis.call("ZADD", keys[2], queuedAt, id)
  redis.call("ZADD", keys[3], queuedAt, id)
  if from ~= nil then redis.call("ZREM", from, id) end
  redis.call("ZADD", to, queuedAt, id)
  if ENDED[status] then
    local ended = tonumber(completedAt)
    if ended == nil then ended = tonumber(cjson.decode(redis.call("HGET", keys[1], "run")).completedAt) end
    redis.call("ZADD", keys[4], ended or tonumber(queuedAt), id)
  end
  redis.call("HSET", keys[1], "ix", status)
  return 1
end
