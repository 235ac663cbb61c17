--[[ purge.lua — operator action: drop every ready job of a queue.

UNLINK frees the memory in the background, so purging a million jobs does
not block Redis. Scheduled, retrying, active and dead jobs are untouched.

Called by: store/ops/purge.rs, from Admin::purge (admin/queues.rs),
followed by purge_keyed.lua: the operator, through the dashboard and JSON
API (jobqueue-dashboard/src/actions/queues.rs) or `jobqueue purge`
(jobqueue-cli/src/commands/queue_actions.rs).

KEYS[1]  P:{Q}:ready     list
KEYS[2]  P:{Q}:priority  zset

Returns: number of jobs dropped.
]]
local dropped = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
redis.call('UNLINK', KEYS[1], KEYS[2])
return dropped
