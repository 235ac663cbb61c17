--[[ batch_seal.lua — the producer is done adding: release its hold.

Drops the producer's hold; when nothing is pending any more (every job
already ended, or none was added), the batch completes here and its
callbacks are enqueued (batch_settle in include/batch.lua); otherwise
the open timeout set while held (batch_open.lua) is removed (a child
batch leaves P:{Q}:batches_held). Sealing a
batch that is not held (sealed already) changes nothing.

Called by: store/ops/batch_seal.rs, from Batch::seal and BatchBuilder::enqueue
(jobqueue-core/src/client/batch.rs).

KEYS[1]  P:{Q}:batch:<bid> hash
KEYS[2]  P:{Q}:ready       list
ARGV[1]  P:{Q}:events      pub/sub channel

Returns: 1 sealed now, 0 was not held, -1 no such batch.
]]
local holds = redis.call('HGET', KEYS[1], 'holds')
if not holds then return -1 end
if tonumber(holds) <= 0 then return 0 end
if redis.call('HINCRBY', KEYS[1], 'holds', -1) <= 0 then
  redis.call('PERSIST', KEYS[1])
  if redis.call('HEXISTS', KEYS[1], 'parent') == 1 then
    redis.call('ZREM', queue_key(flow_base(KEYS[2], ':ready'), ':batches_held'), string.sub(KEYS[1], -36))
  end
end
if batch_settle(KEYS[1], KEYS[2], now_ms()) > 0 then
  redis.call('PUBLISH', ARGV[1], 'r')
end
return 1
