--[[ heartbeat.lua — renew a worker's lease on one queue.

Sets the worker's lease deadline to now + lease (Redis clock). Whether the
lease existed tells the worker if it lost it: a lease that lapsed and was
reclaimed is gone, and the jobs it covered were put back in the queue.

Called by: store/ops/heartbeat.rs, from the worker's heartbeat loop
(jobqueue-worker/src/loops/heartbeat.rs, every `heartbeat_interval`, on
the housekeeping thread), from a fetch round that found no lease
(jobqueue-worker/src/loops/fetch_round.rs) and from the inline worker.

KEYS[1]  P:{Q}:leases  zset  wid → lease deadline ms
ARGV[1]  worker id
ARGV[2]  lease length, ms

Returns: 1 when the lease existed, 0 when it was created now.
]]
local now = now_ms()
local existed = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if existed then return 1 end
return 0
