--[[
  Not a script of its own: scripts.ts puts this chunk first in every script that needs it.

  ENDED      the statuses a run ends in (the store's terminal statuses), as a set
  statusIndexes(firstKey, firstArg, n)
             the n status index keys from KEYS[firstKey] on, and the status each indexes from
             ARGV[firstArg] on: the pairs every script that moves a run between indexes is given
]]
local ENDED = { success = true, failed = true, denied = true, cancelled = true, timed_out = true }

local function statusIndexes(firstKey, firstArg, n)
  local keys, statuses = {}, {}
  for i = 0, n - 1 do
    keys[i + 1] = KEYS[firstKey + i]
    statuses[i + 1] = ARGV[firstArg + i]
  end
  return keys, statuses
end
