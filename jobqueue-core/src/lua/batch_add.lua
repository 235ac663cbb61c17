--[[ batch_add.lua — jobs join a batch and become ready, in one step.

The records (each carrying `"batch":"<bid>"` in its envelope) are appended
to the ready list and the batch's `total` and `pending` grow by their
number atomically, so a job can never end before it is counted. Allowed
while the batch is not complete: a producer holds it (before seal), or a
job of the batch is still pending — a running job adding to its own batch
(ctx.batch()) is itself pending, so the batch cannot complete before the
jobs it adds are counted. Idle workers are woken (PUBLISH 'r') when the
list was empty. While a producer holds the batch, each add renews the
hash's open timeout (`open_timeout_ms`, see batch_open.lua; a child
batch's deadline in P:{Q}:batches_held).

Called by: store/ops/batch_add.rs, from Batch::add (jobqueue-core/src/client/batch.rs)
and from a running job's ctx.batch() (through the same client).

KEYS[1]  P:{Q}:batch:<bid> hash
KEYS[2]  P:{Q}:ready       list
ARGV[1]  P:{Q}:events      pub/sub channel
ARGV[2…] job records

Returns: number of jobs added, -1 when the batch does not exist (or its
retention is over), -2 when it is complete or cancelled.
]]
local v = redis.call('HMGET', KEYS[1], 'state', 'pending', 'holds', 'open_timeout_ms', 'parent')
if not v[1] then return -1 end
if v[1] ~= 'open' or ((tonumber(v[2]) or 0) <= 0 and (tonumber(v[3]) or 0) <= 0) then
  return -2
end
local n = #ARGV - 1
if n <= 0 then return 0 end
batch_renew_hold(KEYS[1], v[3], v[4], v[5])
redis.call('HINCRBY', KEYS[1], 'total', n)
redis.call('HINCRBY', KEYS[1], 'pending', n)
if redis.call('RPUSH', KEYS[2], unpack(ARGV, 2)) == n then
  redis.call('PUBLISH', ARGV[1], 'r')
end
return n
