--[[ enqueue_unique.lua — enqueue a unique job: at most one per uniqueness key.

The lock `P:{Q}:unique:<digest>` holds the id of the job that owns the key,
always with a TTL (the job's unique-for), so a lock can never outlive it.
Workers release it (unique_release.lua) when the job succeeds or dies. If
no job holds the key, the new job takes the lock and is enqueued (ready,
prioritised or scheduled as requested). If one does, the mode decides:

* reject:   nothing is written; the holder's id is returned.
* replace:  a holder still waiting (scheduled, or waiting for a retry) is
            deleted and the new job takes its place and the lock. A holder
            already ready or running cannot be recalled: the new job is
            enqueued as well and takes the lock.
* debounce: a holder still scheduled keeps its id and payload, and its
            run-at moves to the new job's (never earlier); the lock's TTL
            restarts. Otherwise as replace.

KEYS[1]  P:{Q}:unique:<digest> string  holder job id (PX TTL)
KEYS[2]  P:{Q}:scheduled zset
KEYS[3]  P:{Q}:retry     zset
KEYS[4]  P:{Q}:jobs      hash
KEYS[5]  P:{Q}:ready     list
KEYS[6]  P:{Q}:priority  zset
ARGV[1]  P:{Q}:events    pub/sub channel
ARGV[2]  'reject' | 'replace' | 'debounce'
ARGV[3]  lock TTL, ms (> 0)
ARGV[4]  the record
ARGV[5]  'now' | 'in' | 'at'
ARGV[6]  ms (delay, or instant since the epoch; ignored for 'now')

Returns: {status, job id, replaced id or ''} where status is 'enqueued',
         'duplicate' (reject), 'debounced' (the holder's id) or 'replaced'.
]]
local record, mode, ttl = ARGV[4], ARGV[2], ARGV[3]
if not is_record(record) then
  return redis.error_reply('ERR jobqueue: the argument is not a job record')
end
local now = now_ms()
local at = now
if ARGV[5] == 'in' then at = now + tonumber(ARGV[6]) end
if ARGV[5] == 'at' then at = tonumber(ARGV[6]) end
local id = record_id(record)
local holder = redis.call('GET', KEYS[1])
local replaced = ''

local function publish_if_new_head(previous_head, new_at)
  if previous_head == nil or new_at < previous_head then
    redis.call('PUBLISH', ARGV[1], 's')
  end
end

if holder then
  if mode == 'reject' then
    return {'duplicate', holder, ''}
  end
  local scheduled_at = redis.call('ZSCORE', KEYS[2], holder)
  if mode == 'debounce' and scheduled_at then
    local previous_head = min_score(KEYS[2])
    local new_at = math.max(tonumber(scheduled_at), at)
    redis.call('ZADD', KEYS[2], new_at, holder)
    local held = redis.call('HGET', KEYS[4], holder)
    if held then
      redis.call('HSET', KEYS[4], holder, set_run_at(held, new_at))
    end
    redis.call('PEXPIRE', KEYS[1], ttl)
    publish_if_new_head(previous_head, new_at)
    return {'debounced', holder, ''}
  end
  for _, set_key in ipairs({KEYS[2], KEYS[3]}) do
    if redis.call('ZREM', set_key, holder) == 1 then
      redis.call('HDEL', KEYS[4], holder)
      replaced = holder
    end
  end
end

redis.call('SET', KEYS[1], id, 'PX', ttl)
if at > now then
  local previous_head = min_score(KEYS[2])
  redis.call('ZADD', KEYS[2], at, id)
  redis.call('HSET', KEYS[4], id, set_run_at(record, at))
  publish_if_new_head(previous_head, at)
else
  local was_idle = redis.call('LLEN', KEYS[5]) == 0 and redis.call('ZCARD', KEYS[6]) == 0
  make_ready_all(KEYS[5], KEYS[6], {record}, now)
  if was_idle then
    redis.call('PUBLISH', ARGV[1], 'r')
  end
end
if holder then
  return {'replaced', id, replaced}
end
return {'enqueued', id, ''}
