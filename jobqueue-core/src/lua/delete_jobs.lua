--[[ delete_jobs.lua — operator action: delete scheduled, retrying, dead or
waiting jobs.

A deleted job will never succeed. When it was enqueued with dependents and
had not ended yet (its parent hash still says `pending`), its end is
recorded as `failed` in the same step, as bury.lua records a death, and an
outbox entry is filed for its children, whose policies then apply (dead
letter, run anyway, or keep waiting). A job that had already ended (a dead
job) changes nothing for its children. A deleted durable job's memo, pending
signals and sleeping / signal_wait index entries go with it (drop_memos
in include/flow.lua).

A deleted job of a batch (from the retry set: batch jobs are never
scheduled or waiting) is counted `cancelled` in its batch and no longer
pending, in the same step (batch_job_cancelled, include/batch.lua), so
the batch can complete. Only when the queue has batches (its index
`P:{Q}:batches` exists, one EXISTS per call) is each record read before
its HDEL; a dead job was counted dead already and needs nothing.

Called by: store/ops/delete_jobs.rs, from Admin::delete and the bulk
delete of a listing (admin/actions.rs, admin/browse.rs): the operator,
through the dashboard and JSON API (jobqueue-dashboard/src/actions/jobs.rs)
or `jobqueue delete` (jobqueue-cli/src/commands/retry_delete.rs). The
outbox entries it returns are applied at once (store/releases.rs).

KEYS[1]    P:{Q}:scheduled | P:{Q}:retry | P:{Q}:dead | P:{Q}:waiting  zset
KEYS[2]    P:{Q}:jobs      hash
KEYS[3]    P:{Q}:releases  zset  outbox
KEYS[3+i]  P:{Q}:parent:<ARGV[i]> hash (exists only for jobs with dependents)
ARGV[…]    job ids

Returns: {number of jobs deleted (ids not in the set are skipped),
          outbox entries filed…}
]]
local deleted, filed = 0, {}
local now = now_ms()
local base = flow_base(KEYS[2], ':jobs')
local batches = string.sub(KEYS[1], -5) ~= ':dead'
  and redis.call('EXISTS', queue_key(base, ':batches')) == 1
for i = 1, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local record = batches and redis.call('HGET', KEYS[2], id)
    redis.call('HDEL', KEYS[2], id)
    deleted = deleted + 1
    if record then batch_job_cancelled(base, record, now, queue_key(base, ':events')) end
    drop_memos(base, {id})
    if record_deleted_parent(KEYS[3 + i], KEYS[3], id, now) then
      filed[#filed + 1] = id .. '|failed'
    end
  end
end
return {deleted, unpack(filed)}
