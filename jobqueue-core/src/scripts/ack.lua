--[[ ack.lua — a worker finished jobs successfully: drop them.

Only jobs still leased by this worker are removed. A job missing from the
active hash was reclaimed after this worker's lease lapsed; it is already
back in the queue (or running elsewhere), so nothing is touched.

KEYS[1]  P:{Q}:active:<wid> hash
ARGV[…]  job ids

Returns: how many of the ids were still leased by this worker.
]]
return redis.call('HDEL', KEYS[1], unpack(ARGV))
