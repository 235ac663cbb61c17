--[[ delete_keyed.lua — operator action: delete keyed jobs waiting in their
flow keys' lists.

Each job's record (in the jobs hash) names its key; the job is deleted only
if its id is still in that key's list (otherwise it was leased, finished or
is filed elsewhere, and is left alone). A key whose list empties leaves
P:{Q}:gready. A deleted job with dependents counts as failed for them, as
in delete_jobs.lua. A durable job's memo goes with it (drop_memos in
include/flow.lua).

Called by: store/ops/delete_keyed.rs, from Admin::delete_keyed
(admin/keys.rs) and Admin::delete_keyed_matching (admin/browse.rs): the
operator, through the keyed tab of the dashboard, the JSON API
(jobqueue-dashboard/src/actions/jobs.rs) or `jobqueue delete`
(jobqueue-cli/src/commands/retry_delete.rs). The outbox entries it
returns are applied at once (store/releases.rs).

KEYS[1]    P:{Q}:jobs hash
KEYS[2]    P:{Q}:releases  zset  outbox
KEYS[2+i]  P:{Q}:parent:<ARGV[i]> hash (exists only for jobs with dependents)
ARGV[…]    job ids

Returns: {number of jobs deleted, outbox entries filed…}
]]
local base = flow_base(KEYS[1], ':jobs')
local deleted, filed = 0, {}
local now = now_ms()
for i = 1, #ARGV do
  local id = ARGV[i]
  local record = redis.call('HGET', KEYS[1], id)
  local key = record and record_flow(record)
  if key and redis.call('LREM', queue_key(base, ':g:' .. key), 1, id) == 1 then
    redis.call('HDEL', KEYS[1], id)
    flow_forget_if_idle(base, key)
    drop_memos(base, {id})
    deleted = deleted + 1
    if record_deleted_parent(KEYS[2 + i], KEYS[2], id, now) then
      filed[#filed + 1] = id .. '|failed'
    end
  end
end
flow_taken(base, deleted)
return {deleted, unpack(filed)}
