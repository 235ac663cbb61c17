--[[ link_child.lua — register a dependent with one of its parents.

Runs on the parent's queue before the dependent is enqueued on its own
(possibly another Redis Cluster slot). The parent hash exists only for a
job enqueued with dependents (parent_open.lua) and for 30 days after its
last end; without it the parent is unknown and nothing is written.

Called by: store/ops/link_child.rs (Store::link_children, one call per
parent in one round trip), when a producer enqueues a job with parents
(client/after.rs), before enqueue_waiting.lua on the job's own queue.

KEYS[1]  P:{Q}:parent:<parent id> hash  state, and one field per child
ARGV[1]  the child's field: c|<child queue>|<child id>

Returns: the parent's state (pending | succeeded | failed), or false when
         the parent is unknown.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], ARGV[1], '1')
return redis.call('HGET', KEYS[1], 'state')
