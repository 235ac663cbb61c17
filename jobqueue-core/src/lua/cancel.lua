--[[ cancel.lua — cancel one job, wherever it waits or runs.

A cancelled job never runs (again): its record moves to the queue's
cancelled set (kept for inspection, bounded like the dead set) and the
queue's `cancelled` counter grows. A job waiting in the scheduled, retry
or waiting-for-parents set is found by id. A job in the ready list or
priority set can only be removed by its exact record, which the caller
finds first (scanning outside Redis, so a long queue never blocks Redis)
and passes in ARGV[3]. A job
leased by a worker (running, or prefetched) is taken out of the worker's
active hash here, so Redis says "cancelled" at once whatever the worker
does next, and `c<id>` is published on the queue's events channel so the
worker fires the job's cancellation token. A keyed job waiting in its
key's list (id in P:{Q}:g:<key>, record in the jobs hash) is found by id
and reported as 'ready'; a leased keyed job's key is released. A job of
a batch is counted `cancelled` in its batch in the same step
(batch_job_cancelled in include/batch.lua). A durable job's memo, pending
signals and sleeping / signal_wait index entries are deleted when it is
filed (file_finished → drop_memos in include/flow.lua).

Called by: store/ops/cancel.rs (Store::cancel_once, after
find_ready_record for a job in the ready list or priority set), from
Admin::cancel and Client::cancel (client/cancel.rs): a producer, or the
operator through the dashboard and JSON API
(jobqueue-dashboard/src/actions/jobs.rs) or `jobqueue cancel`
(jobqueue-cli/src/commands/cancel.rs).

KEYS[1]  P:{Q}:scheduled zset
KEYS[2]  P:{Q}:retry     zset
KEYS[3]  P:{Q}:jobs      hash
KEYS[4]  P:{Q}:ready     list
KEYS[5]  P:{Q}:priority  zset
KEYS[6]  P:{Q}:cancelled zset  id → cancelled-at ms
KEYS[7]  P:{Q}:stats     hash
KEYS[8]  P:{Q}:waiting   zset  (jobs waiting for their parents)
KEYS[9]  P:{Q}:releases  zset  release outbox
KEYS[10] P:{Q}:parent:<id> hash (a job with dependents: its cancellation
         counts as its death for them, see resolve_parent in include/flow.lua)
KEYS[11…] P:{Q}:active:<wid> hashes of every worker holding a lease
ARGV[1]  P:{Q}:events    pub/sub channel
ARGV[2]  job id
ARGV[3]  the job's exact record in ready/priority, or ''
ARGV[4]  most cancelled jobs kept
ARGV[5]  most age of a cancelled job, ms

Returns: {'cancelled', 'ready' | 'scheduled' | 'retry' | 'waiting' | 'active', record}
         (a unique job's lock is freed in the same step)
         or {'not_found', '', ''} (never enqueued, finished, dead, already cancelled,
         or — with a candidate record — no longer where the caller saw it).

A `cancelled` entry goes to the queue's event stream, and the job's history
entry to its history, when they are on (observe_finished in
include/observe.lua).
]]
local id, candidate = ARGV[2], ARGV[3]
local now = now_ms()

local function file_cancelled(record)
  file_finished(KEYS[6], KEYS[3], KEYS[7], 'cancelled', id, record, now, tonumber(ARGV[4]), tonumber(ARGV[5]))
  observe_finished(flow_base(KEYS[3], ':jobs'), 'cancelled', id, record, now)
  resolve_parent(KEYS[10], KEYS[9], id, 'failed', now)
  release_unique(flow_base(KEYS[3], ':jobs'), record)
  batch_job_cancelled(flow_base(KEYS[3], ':jobs'), record, now, ARGV[1])
end

if candidate ~= '' then
  if record_id(candidate) ~= id then
    return redis.error_reply('ERR jobqueue: the candidate record is not job ' .. id)
  end
  if redis.call('LREM', KEYS[4], 1, candidate) == 1 or redis.call('ZREM', KEYS[5], candidate) == 1 then
    file_cancelled(candidate)
    return {'cancelled', 'ready', candidate}
  end
end
for _, place in ipairs({{KEYS[1], 'scheduled'}, {KEYS[2], 'retry'}, {KEYS[8], 'waiting'}}) do
  local set_key = place[1]
  if redis.call('ZREM', set_key, id) == 1 then
    local record = redis.call('HGET', KEYS[3], id)
    if record then
      file_cancelled(record)
      return {'cancelled', place[2], record}
    end
  end
end
local waiting = redis.call('HGET', KEYS[3], id)
local key = waiting and record_flow(waiting)
if key and redis.call('LREM', queue_key(flow_base(KEYS[3], ':jobs'), ':g:' .. key), 1, id) == 1 then
  flow_taken(flow_base(KEYS[3], ':jobs'), 1)
  flow_forget_if_idle(flow_base(KEYS[3], ':jobs'), key)
  file_cancelled(waiting)
  return {'cancelled', 'ready', waiting}
end
for i = 11, #KEYS do
  local record = redis.call('HGET', KEYS[i], id)
  if record then
    redis.call('HDEL', KEYS[i], id)
    flow_leave(flow_base(KEYS[3], ':jobs'), {record})
    file_cancelled(record)
    redis.call('PUBLISH', ARGV[1], 'c' .. id)
    return {'cancelled', 'active', record}
  end
end
return {'not_found', '', ''}
