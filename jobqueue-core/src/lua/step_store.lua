--[[ step_store.lua — a running durable job stores one completed step, or
the wake time of a durable sleep, in its memo (no job moves).

Only a worker that still holds the job may write: the job must be in this
worker's active hash and the worker's lease deadline must not have passed
on the Redis clock. A worker whose lease lapsed (the job was reclaimed, or
is about to be, and runs again elsewhere) writes nothing, so a late run can
never overwrite the memo the next run reads.

A step is stored as `<ms> <output JSON>` under `step:<name>` (ms: when, on
the Redis clock). A sleep stores its wake time, `now + duration` rounded up
to the whole ms (never early), under `sleep:<name>`. The memo's TTL is
restarted: ARGV[4] after now, plus the sleep. A sleep also enters the job
in the queue's index of sleeping jobs (for counts and lists).

Called by: store/ops/step_store.rs, from a running job's context
(jobqueue-core/src/job/steps.rs: JobContext::step, step_n, sleep) in the
worker process that leased it.

KEYS[1]  P:{Q}:active:<wid>    hash  id → record
KEYS[2]  P:{Q}:leases          zset  wid → lease deadline ms
KEYS[3]  P:{Q}:steps:<id>      hash  the job's memo
KEYS[4]  P:{Q}:sleeping        zset  id → wake time: the index of sleeping
         jobs (a sleep adds the job, and trims entries already past)
KEYS[5]  P:{Q}:status:<id>     hash  a tracked job's status: `sleeping`
         when a sleep is stored
ARGV[1]  job id
ARGV[2]  worker id
ARGV[3]  'step' | 'sleep'
ARGV[4]  memo TTL after the write (and after the wake time), ms
ARGV[5]  the step or sleep name
ARGV[6]  'step': the output JSON; 'sleep': the duration, ms

Returns: {1, now ms, stored value} when stored;
         {0, now ms} when this worker no longer holds the job.
]]
local now = now_ms()
local deadline = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[2]))
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not deadline or deadline < now or not record then
  return {0, ms_text(now)}
end
local ttl = tonumber(ARGV[4])
local field, value
if ARGV[3] == 'sleep' then
  local wake = math.ceil(now + tonumber(ARGV[6]))
  field, value = 'sleep:' .. ARGV[5], string.format('%d', wake)
  ttl = ttl + (wake - math.floor(now))
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', math.floor(now))
  redis.call('ZADD', KEYS[4], wake, ARGV[1])
  if record_tracked(record) then
    redis.call('HSET', KEYS[5], 'state', 'sleeping', 'updated_at', ms_text(now))
    redis.call('PEXPIRE', KEYS[5], ttl)
  end
else
  field, value = 'step:' .. ARGV[5], ms_text(now) .. ' ' .. ARGV[6]
end
redis.call('HSET', KEYS[3], field, value)
redis.call('PEXPIRE', KEYS[3], ttl)
return {1, ms_text(now), value}
