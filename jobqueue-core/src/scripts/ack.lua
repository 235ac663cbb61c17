--[[ ack.lua — a worker finished jobs successfully: drop them.

Only jobs still leased by this worker are removed. A job missing from the
active hash was reclaimed after this worker's lease lapsed; it is already
back in the queue (or running elsewhere), so nothing is touched.

When some of the jobs carry flow keys the caller passes KEYS[2], and each
keyed job's key is released (one fewer running, ready again if jobs wait;
see lib.lua). Without KEYS[2] (the plain path) nothing else is read.

KEYS[1]  P:{Q}:active:<wid> hash
KEYS[2]  P:{Q}:gready       zset (only when some jobs are keyed)
ARGV[…]  job ids

Returns: how many of the ids were still leased by this worker.
]]
if not KEYS[2] then
  return redis.call('HDEL', KEYS[1], unpack(ARGV))
end
local records = redis.call('HMGET', KEYS[1], unpack(ARGV))
local removed = redis.call('HDEL', KEYS[1], unpack(ARGV))
flow_leave(flow_base(KEYS[2], ':gready'), records)
return removed
