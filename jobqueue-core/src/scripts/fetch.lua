--[[ fetch.lua — lease up to N ready jobs to one worker.

The worker owns a fetched job while its lease in P:{Q}:leases is alive; the
worker's heartbeat renews the lease, and when it lapses any process moves
the jobs back to ready (reclaim.lua). A job is therefore never only in a
worker's memory: it is in the ready list or in this worker's active hash.

Prioritised jobs whose effective ready time is not later than the ready
list's head go first; the rest of the batch comes from the list head (FIFO).

KEYS[1]  P:{Q}:ready        list
KEYS[2]  P:{Q}:priority     zset
KEYS[3]  P:{Q}:active:<wid> hash  id → record
KEYS[4]  P:{Q}:leases       zset  wid → lease deadline
KEYS[5]  P:{Q}:paused       string
ARGV[1]  worker id
ARGV[2]  most jobs to lease (1-1000)

A malformed record whose id bytes collide with a record already leased to
this worker is not leased: it goes back to the tail of the ready list.

Returns: {status, record…}; status 0 = ok (zero or more records follow),
         1 = queue paused, 2 = this worker holds no lease (heartbeat first).
]]
if redis.call('EXISTS', KEYS[5]) == 1 then
  return {1}
end
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  return {2}
end
local want = tonumber(ARGV[2])
local out = {0}
if redis.call('ZCARD', KEYS[2]) > 0 then
  local limit = '+inf'
  local head = redis.call('LINDEX', KEYS[1], 0)
  if head then limit = record_ready_ms(head) end
  local picked = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', limit, 'LIMIT', 0, want)
  if #picked > 0 then
    redis.call('ZREM', KEYS[2], unpack(picked))
    for _, record in ipairs(picked) do out[#out + 1] = record end
  end
end
local rest = want - (#out - 1)
if rest > 0 then
  local popped = redis.call('LPOP', KEYS[1], rest)
  if popped then
    for _, record in ipairs(popped) do out[#out + 1] = record end
  end
end
if #out == 1 then
  return out
end
-- Valid records carry unique ids and are leased in one HSET. A malformed
-- record (written by a foreign producer) has meaningless id bytes that may
-- equal another leased record's: leasing it would overwrite that one in the
-- active hash, and whichever outcome is written second would find nothing
-- and drop its record. So a malformed record is leased only if its key is
-- free (after the valid ones took theirs); otherwise it goes back to the end
-- of the queue and is leased once the other is gone.
local fields, malformed, leased = {}, {}, {0}
for i = 2, #out do
  if is_record(out[i]) then
    fields[#fields + 1] = record_id(out[i])
    fields[#fields + 1] = out[i]
    leased[#leased + 1] = out[i]
  else
    malformed[#malformed + 1] = out[i]
  end
end
if #fields > 0 then
  redis.call('HSET', KEYS[3], unpack(fields))
end
for _, record in ipairs(malformed) do
  if redis.call('HSETNX', KEYS[3], record_id(record), record) == 1 then
    leased[#leased + 1] = record
  else
    redis.call('RPUSH', KEYS[1], record)
  end
end
return leased
