--[[ parent_open.lua — open the dependency record of a job enqueued with
dependents, in the same round trip as its enqueue and before it.

The record lives until 30 days after the job's run time (the job's end
renews it for 30 days). If the enqueue after it fails, it is an orphan
that expires on its own.

Called by: store/ops/parent_open.rs, when a producer enqueues a job
`with_dependents`: in the same round trip as its enqueue
(store/enqueue.rs, from client/bulk.rs), or on its own for a job with
parents that may get dependents (client/after.rs).

KEYS[1]  P:{Q}:parent:<id> hash
ARGV[1]  ms until the job's run time (0 for a job that runs now)

Returns: 1
]]
redis.call('HSETNX', KEYS[1], 'state', 'pending')
redis.call('PEXPIRE', KEYS[1], DEPENDENCY_TTL_MS + (tonumber(ARGV[1]) or 0))
return 1
