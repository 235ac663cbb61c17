--[[ ack.lua — a worker finished jobs successfully: drop them.

Only jobs still leased by this worker are removed. A job missing from the
active hash was reclaimed after this worker's lease lapsed; it is already
back in the queue (or running elsewhere), so nothing is touched.

Unique jobs come first, each with its uniqueness lock as a key: the lock
is released (only while it still names the job: a lock that expired and
was taken by a newer job, or handed over by replace, is left alone) when
the job's acknowledgement is recorded here, in the same step.

KEYS[1]     P:{Q}:active:<wid> hash
KEYS[1+i]   P:{Q}:unique:<digest> string, the lock of ARGV[i]
ARGV[…]     job ids: the #KEYS-1 unique ones first, then the others

Returns: {how many of the ids were still leased by this worker,
          how many locks were released}.
]]
local acked, released = 0, 0
for i = 2, #KEYS do
  local id = ARGV[i - 1]
  if redis.call('HDEL', KEYS[1], id) == 1 then
    acked = acked + 1
    if redis.call('GET', KEYS[i]) == id then
      redis.call('DEL', KEYS[i])
      released = released + 1
    end
  end
end
if #ARGV >= #KEYS then
  acked = acked + redis.call('HDEL', KEYS[1], unpack(ARGV, #KEYS))
end
return {acked, released}
