--[[ requeue.lua — operator action: waiting or dead jobs run now.

Moves the given jobs from the scheduled, retry, dead or waiting-for-parents
set to the ready list (or the priority set, or a keyed job's flow-key
list: make_ready_all in include/flow.lua). With reset = 1 (retrying dead
jobs) the attempt count starts over so the job gets its full attempts
again; its error history is kept. Ids not in the set are skipped. A job
taken out of the waiting set runs without waiting for its parents; the
caller drops its dependency state (Admin::forget_dependencies). A dead
job of a batch is counted pending in its batch again (batch_revived in
include/batch.lua), so the batch's counts stay exact.

Called by: store/ops/requeue.rs, from Admin::retry and the bulk "run now"
/ "retry" of a listing or an error group (admin/actions.rs,
admin/browse.rs): the operator, through the dashboard and JSON API
(jobqueue-dashboard/src/actions/jobs.rs) or `jobqueue retry`
(jobqueue-cli/src/commands/retry_delete.rs); also jobqueue-testing's
`advance` (jobqueue-testing/src/clock.rs).

KEYS[1]  P:{Q}:scheduled | P:{Q}:retry | P:{Q}:dead | P:{Q}:waiting  zset
KEYS[2]  P:{Q}:jobs      hash
KEYS[3]  P:{Q}:ready     list
KEYS[4]  P:{Q}:priority  zset
ARGV[1]  P:{Q}:events    pub/sub channel
ARGV[2]  reset attempts: '1' or '0'
ARGV[3…] job ids

Returns: number of jobs made ready.
]]
local now = now_ms()
local records = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local record = redis.call('HGET', KEYS[2], id)
    redis.call('HDEL', KEYS[2], id)
    if record then
      if ARGV[2] == '1' then
        record = reset_attempt(record)
        batch_revived(flow_base(KEYS[2], ':jobs'), record)
      end
      records[#records + 1] = record
    end
  end
end
local moved = #records
if moved > 0 then
  make_ready_all(KEYS[3], KEYS[4], records, now)
  redis.call('PUBLISH', ARGV[1], 'r')
end
return moved
