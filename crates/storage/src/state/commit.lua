-- Commits one change to a dashboard room, atomically (see state/redis.rs).
--
-- KEYS: 1 meta (hash: epoch, version, updated_at), 2 snap (string: document),
--       3 hist (stream, entry id "<version>-0"), 4 ops (sorted set: op key
--       scored by the version it produced).
-- ARGV: 1 has_expected ("1"/"0"), 2 expected epoch, 3 expected version,
--       4 op key ("" = none), 5 new epoch ("" = keep), 6 document, 7 ops (JSON),
--       8 written paths (JSON), 9 now (ms), 10 history length, 11 op key window,
--       12 TTL (ms), 13 invalidation channel.
-- Returns {"committed", epoch, version}, {"duplicate", epoch, version},
--         {"mismatch", epoch, version} or {"mismatch"} when the room is absent.
--
-- Every check runs before the first write: Redis does not roll back a script
-- that fails halfway, so nothing may fail after writing starts.

local meta, snap, hist, ops = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local has_expected = ARGV[1] == '1'
local op_key, new_epoch = ARGV[4], ARGV[5]

local current = redis.call('HMGET', meta, 'epoch', 'version')
local epoch, version = current[1], current[2]

-- 1. A known op key: report its first result, apply nothing. Op keys are
-- cleared with every new epoch, so a remembered one belongs to this epoch.
if op_key ~= '' and epoch then
  local seen = redis.call('ZSCORE', ops, op_key)
  if seen then
    return {'duplicate', epoch, seen}
  end
end

-- 2. Optimistic check against the stored (epoch, version).
local matches
if has_expected then
  matches = epoch == ARGV[2] and version == ARGV[3]
else
  matches = not epoch
end
if not matches then
  if epoch then
    return {'mismatch', epoch, version}
  end
  return {'mismatch'}
end

-- 3. A new epoch starts the log afresh (its versions restart at 1).
local next_version
if new_epoch ~= '' then
  redis.call('DEL', hist, ops)
  epoch, next_version = new_epoch, 1
elseif epoch then
  next_version = tonumber(version) + 1
  -- XADD refuses an id not above the stream's top, which would stop the script
  -- halfway. The top can only be that high after data loss; drop such a stream
  -- (history_after then reports the gap) rather than fail after writing.
  local top = redis.call('XREVRANGE', hist, '+', '-', 'COUNT', 1)[1]
  if top and tonumber(string.match(top[1], '^(%d+)')) >= next_version then
    redis.call('DEL', hist)
  end
else
  return redis.error_reply('the first commit of a room must start an epoch')
end

-- 4. The write: version, history, op key, snapshot, expiry, then the hint.
local committed = string.format('%d', next_version)
redis.call('HSET', meta, 'epoch', epoch, 'version', committed, 'updated_at', ARGV[9])
redis.call('XADD', hist, 'MAXLEN', '~', ARGV[10], committed .. '-0',
  'v', committed, 'op', op_key, 'ops', ARGV[7], 'paths', ARGV[8], 'at', ARGV[9])
if op_key ~= '' then
  redis.call('ZADD', ops, next_version, op_key)
end
redis.call('ZREMRANGEBYSCORE', ops, '-inf', next_version - tonumber(ARGV[11]))
redis.call('SET', snap, ARGV[6])
for _, key in ipairs(KEYS) do
  redis.call('PEXPIRE', key, ARGV[12])
end
redis.call('PUBLISH', ARGV[13], epoch .. '.' .. committed)
return {'committed', epoch, committed}
