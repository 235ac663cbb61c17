--[[ workflow_gate.lua — open a workflow's gate: its roots may run now.

Every root of a workflow waits, besides its own parents (none), for one
more: the workflow's gate, a dependency record named by the workflow id
on the workflow's home queue (parent_open.lua). The producer opens it here
once every node is placed, in the same step as it marks the record
`placed`: before, no node can run; after, the roots are released (through
the queue's release outbox, like any parent's end: the producer applies
the entry, or the reaper's sweep does if the producer died). A workflow
cancelled (or abandoned) before keeps its gate shut, so none of its roots
ever runs.

Called by: store/ops/workflow_gate.rs, from the producer at the end of
Workflow::enqueue (jobqueue-core/src/workflow/enqueue.rs).

KEYS[1]  P:{Q}:workflow:<wid>  hash  the workflow's record
KEYS[2]  P:{Q}:parent:<wid>    hash  the gate's dependency record
KEYS[3]  P:{Q}:releases        zset  outbox
ARGV[1]  the workflow id
ARGV[2]  retention ms (the record's TTL, renewed)

Returns: the outbox entry '<wid>|succeeded' (or 'opened' when no root
         was linked to the gate); 'gone' when the record is gone; 'shut'
         when the workflow is no longer being enqueued (cancelled or
         abandoned: the gate stays shut)
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local r = redis.call('HMGET', KEYS[1], 'state', 'cancelled')
if r[1] ~= 'enqueueing' or r[2] then return 'shut' end
redis.call('HSET', KEYS[1], 'state', 'placed')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
if resolve_parent(KEYS[2], KEYS[3], ARGV[1], 'succeeded', now_ms()) then
  return ARGV[1] .. '|succeeded'
end
return 'opened'
