--[[ workflow_open.lua — record a new workflow before any of its nodes is
enqueued.

The record names every node's job id before the first node is placed, so
a producer that dies mid-enqueue leaves a record in state 'enqueueing'
that lists what it may have placed (the operator's cancel removes those
jobs; no node runs, since roots are enqueued last). The queue's index of
workflows is trimmed here: entries older than the retention, and the
oldest beyond the cap.

Called by: store/ops/workflow_open.rs, when a producer enqueues a workflow
(jobqueue-core/src/workflow/enqueue.rs), on its first node's queue.

KEYS[1]  P:{Q}:workflow:<wid> hash  the workflow's record
KEYS[2]  P:{Q}:workflows      zset  workflow id → created ms
ARGV[1]  the workflow id
ARGV[2]  retention ms (the record's TTL; index entries older are dropped)
ARGV[3]  most workflows kept in the index
ARGV[4…] pairs: field, value (name, graph, n:<node> job id, …)

Returns: 1, or 0 when a workflow with this id exists (nothing written)
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = now_ms()
local retention, cap = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'created', string.format('%d', now), 'state', 'enqueueing', unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], retention)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - retention))
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(cap + 1))
return 1
