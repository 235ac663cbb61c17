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
for i = 1, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('HDEL', KEYS[2], id)
    deleted = deleted + 1
    drop_memos(flow_base(KEYS[2], ':jobs'), {id})
    if record_deleted_parent(KEYS[3 + i], KEYS[3], id, now) then
      filed[#filed + 1] = id .. '|failed'
    end
  end
end
return {deleted, unpack(filed)}
