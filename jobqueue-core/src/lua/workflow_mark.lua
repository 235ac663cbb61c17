--[[ workflow_mark.lua — change a workflow's record: its nodes are placed,
it was cancelled, or nodes were re-enqueued by a retry.

Guarded: with a guard field, the change applies only while that field
holds the expected value (a missing field holds ''). A retry guards on the
record's generation, its `retries` count: of two retries of one workflow
at once, whatever nodes they start from, one claims it and the other
changes nothing. Each change renews the record's retention.

Called by: store/ops/workflow_mark.rs, from the workflow's enqueue (state
placed), cancel and retry (jobqueue-core/src/workflow/enqueue.rs,
jobqueue-core/src/workflow/control.rs).

KEYS[1]  P:{Q}:workflow:<wid> hash
ARGV[1]  retention ms
ARGV[2]  guard field, or ''
ARGV[3]  the guard field's expected value ('' for a missing field)
ARGV[4…] pairs: field, value

Returns: 1 when written, 0 when the record is gone, -1 when the guard
         field no longer holds the expected value (nothing written)
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' and (redis.call('HGET', KEYS[1], ARGV[2]) or '') ~= ARGV[3] then return -1 end
if #ARGV >= 5 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
