--[[ signal_wait.lua — a running durable job waits for a signal: takes it
if it came, or parks the job until it comes or the wait times out
(active → retry, no attempt counted).

Only a worker that still holds the job acts (as step_store.lua: in its
active hash, lease deadline not passed on the Redis clock). In order:

1. the memo already has `signal:<name>` (a signal consumed by an earlier
   run): returned as it is;
2. a signal `<name>` is pending in P:{Q}:signals:<id> (sent before the
   job waited, or while it was parked): it moves into the memo as
   `R <payload>` and is returned — the job does not park;
3. the wait's deadline (`wait:<name>` in the memo, set on the first wait
   to now + timeout, rounded up, and kept across runs) has passed: `T`
   (timed out) goes into the memo and is returned;
4. else the job parks: it leaves the active hash and goes, record as
   leased (attempt not counted), to the jobs hash and the retry set, due at
   the deadline; the memo's `~waiting` names the signal, so
   signal_send.lua can make it due at once. A keyed job's flow key is
   released (as retry.lua). The promoters are told (PUBLISH 's') when the
   earliest retry moves earlier.

Checking for the signal and parking are one step, so a signal sent at any
instant is either taken here or finds the job parked.

Called by: store/ops/signal_wait.rs, from a running job's context
(jobqueue-core/src/job/steps.rs: JobContext::wait_for_signal) in the
worker process that leased it. The run then ends with a snooze, which
retry.lua ignores (the job is no longer in the worker's active hash).

KEYS[1]  P:{Q}:active:<wid>   hash  id → record
KEYS[2]  P:{Q}:leases         zset  wid → lease deadline ms
KEYS[3]  P:{Q}:steps:<id>     hash  the job's memo
KEYS[4]  P:{Q}:signals:<id>   hash  pending signals: name → payload
KEYS[5]  P:{Q}:retry          zset  id → retry-at ms
KEYS[6]  P:{Q}:jobs           hash  id → record
KEYS[7]  P:{Q}:signal_wait    zset  id → deadline: the index of parked jobs
         (a park adds the job and trims entries already past; a wait that
         is over removes it)
KEYS[8]  P:{Q}:status:<id>   hash  a tracked job's status:
         `waiting_for_signal` when it parks
ARGV[1]  job id
ARGV[2]  worker id
ARGV[3]  signal name
ARGV[4]  timeout, ms
ARGV[5]  memo TTL after the deadline, ms
ARGV[6]  P:{Q}:events pub/sub channel

Returns: {'lost'} this worker no longer holds the job (nothing changed);
         {'done', value} value `R <payload JSON>` or `T`;
         {'parked', deadline ms}.
]]
local now = now_ms()
local id, name = ARGV[1], ARGV[3]
local deadline = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[2]))
local record = redis.call('HGET', KEYS[1], id)
if not deadline or deadline < now or not record then
  return {'lost'}
end
local field = 'signal:' .. name
local done = redis.call('HGET', KEYS[3], field)
if done then return {'done', done} end
local payload = redis.call('HGET', KEYS[4], name)
if payload then
  done = 'R ' .. payload
  redis.call('HDEL', KEYS[4], name)
else
  local wait_until = tonumber(redis.call('HGET', KEYS[3], 'wait:' .. name))
  if not wait_until then
    wait_until = math.ceil(now + tonumber(ARGV[4]))
    redis.call('HSET', KEYS[3], 'wait:' .. name, string.format('%d', wait_until))
  end
  if now >= wait_until then
    done = 'T'
  else
    local ttl = tonumber(ARGV[5]) + (wait_until - math.floor(now))
    -- A record never replaces another (include/records.lua): with the id
    -- taken in the jobs hash the job stays leased, and the run's snooze
    -- files it through retry.lua, which dead-letters the twin.
    if redis.call('HEXISTS', KEYS[6], id) == 1 then return {'lost'} end
    local previous_head = min_score(KEYS[5])
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZADD', KEYS[5], wait_until, id)
    redis.call('HSET', KEYS[6], id, set_run_at(record, wait_until))
    redis.call('HSET', KEYS[3], '~waiting', name)
    redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', math.floor(now))
    redis.call('ZADD', KEYS[7], wait_until, id)
    redis.call('PEXPIRE', KEYS[3], ttl)
    if record_tracked(record) then
      redis.call('HSET', KEYS[8], 'state', 'waiting_for_signal', 'updated_at', ms_text(now))
      redis.call('PEXPIRE', KEYS[8], ttl)
    end
    flow_leave(flow_base(KEYS[5], ':retry'), {record})
    if previous_head == nil or wait_until < previous_head then
      redis.call('PUBLISH', ARGV[6], 's')
    end
    return {'parked', string.format('%d', wait_until)}
  end
end
redis.call('HSET', KEYS[3], field, done)
redis.call('HDEL', KEYS[3], '~waiting')
redis.call('ZREM', KEYS[7], id)
return {'done', done}
