--[[ expire.lua — a leased job whose expiry has passed is dropped, not run.

A worker calls this when its clock says a job it is about to start has
expired; the decision is made here on the Redis clock (the same clock for
every worker). When the job's `expires_at` is not after now, its record
moves from the worker's active hash to the queue's expired set (bounded,
counted in the `expired` counter) and it does not run. Otherwise nothing
changes and the worker runs the job. A keyed job's key is released. A
durable job's memo goes with it (file_finished → drop_memos).

Called by: store/ops/expire.rs (Store::expire_leased), from the worker
about to start a leased job whose `expires_at` its clock says has passed
(jobqueue-worker/src/run/runner.rs, in the worker's job task or the
inline worker).

KEYS[1]  P:{Q}:active:<wid> hash
KEYS[2]  P:{Q}:expired      zset  id → expired-at ms
KEYS[3]  P:{Q}:jobs         hash
KEYS[4]  P:{Q}:stats        hash
KEYS[5]  P:{Q}:releases  zset  release outbox (only for a job with
         dependents: its expiry counts as its death for them)
KEYS[6]  P:{Q}:parent:<id> hash (the same)
KEYS[5 or 7]  P:{Q}:unique:<digest> (only for a unique job: released if it names this job)
ARGV[1]  job id (as leased)
ARGV[2]  the job's expires_at, ms
ARGV[3]  most expired jobs kept
ARGV[4]  most age of an expired job, ms
ARGV[5]  '1' when KEYS[5] and KEYS[6] are the outbox and parent keys

Returns: 1 when the job was dropped as expired, 0 when it has not expired
         (or is no longer leased by this worker).

A `expired` entry goes to the queue's event stream, and the job's history
entry to its history, when they are on (observe_finished in
include/observe.lua).
]]
local now = now_ms()
if tonumber(ARGV[2]) > now then
  return 0
end
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
flow_leave(flow_base(KEYS[3], ':jobs'), {record})
file_finished(KEYS[2], KEYS[3], KEYS[4], 'expired', ARGV[1], record, now, tonumber(ARGV[3]), tonumber(ARGV[4]))
observe_finished(flow_base(KEYS[3], ':jobs'), 'expired', ARGV[1], record, now)
local lock = 5
if ARGV[5] == '1' then
  resolve_parent(KEYS[6], KEYS[5], ARGV[1], 'failed', now)
  lock = 7
end
if KEYS[lock] and redis.call('GET', KEYS[lock]) == ARGV[1] then
  redis.call('DEL', KEYS[lock])
end
return 1
