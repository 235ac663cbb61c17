--[[ purge.lua — operator action: drop every ready job of a queue.

The queue's ready list and priority set are emptied in one step: renamed
(O(1), however many jobs they hold) to the purge's own keys
P:{Q}:purging:<token> and P:{Q}:purging:<token>:priority, which no worker
reads. The caller then drains those keys page by page with
purge_memos.lua, which drops each purged job's durable memo
(P:{Q}:steps:<id>, pending signals, index entries: drop_memos in
include/flow.lua), so purging a million jobs never blocks Redis for long
and leaves no memo behind. The purge's keys expire after ARGV[1] ms: a
purge whose caller died half-way cannot keep them (the memos it did not
reach then expire with their own 7-day TTL). Scheduled, retrying, active
and dead jobs are untouched.

Called by: store/ops/purge.rs, from Admin::purge (admin/queues.rs),
followed by purge_memos.lua (repeated while it says more may wait) and
purge_keyed.lua: the operator, through the dashboard and JSON API
(jobqueue-dashboard/src/actions/queues.rs) or `jobqueue purge`
(jobqueue-cli/src/commands/queue_actions.rs).

KEYS[1]  P:{Q}:ready                     list
KEYS[2]  P:{Q}:priority                  zset
KEYS[3]  P:{Q}:purging:<token>           list, must not exist (a fresh token)
KEYS[4]  P:{Q}:purging:<token>:priority  zset, must not exist
ARGV[1]  how long the purge's keys live, ms (≥ 1)

Returns: number of jobs dropped.
]]
local ttl = string.match(ARGV[1], '^[1-9]%d*$') and ARGV[1]
if not ttl then
  return redis.error_reply('ERR jobqueue: the purge keys TTL must be whole ms (at least 1)')
end
if redis.call('EXISTS', KEYS[3], KEYS[4]) > 0 then
  return redis.error_reply('ERR jobqueue: the purge token is in use')
end
local ready, prioritised = redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2])
if ready > 0 then
  redis.call('RENAME', KEYS[1], KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ttl)
end
if prioritised > 0 then
  redis.call('RENAME', KEYS[2], KEYS[4])
  redis.call('PEXPIRE', KEYS[4], ttl)
end
return ready + prioritised
