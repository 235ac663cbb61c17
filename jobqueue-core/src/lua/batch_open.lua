--[[ batch_open.lua — a producer creates a batch, held open until sealed.

Creates the batch hash with zero counts, one hold (the producer's: the
batch cannot complete while it adds chunks; batch_seal.lua releases it),
its description, retention and callback records, and indexes it in the
queue's batch list. An id already in use is refused (nothing changes).
While a producer holds it the hash expires after the open timeout
(ARGV[5], kept as `open_timeout_ms`), renewed by every batch_add.lua and
dropped by batch_seal.lua: a batch whose producer died before sealing it
is gone after that long (its jobs still run, uncounted; no callback).
A child batch (ARGV[4]) counts as one job of its parent: its hash keeps
`parent` and `told` = `pending` (see include/batch.lua). Its open timeout
is not a TTL (an expired hash could not tell the parent): it is indexed
in P:{Q}:batches_held (id → deadline) and batch_expire_held.lua, run by
the workers' reaper, cancels it when the deadline passed, which tells
the parent. The index is kept bounded: the ten oldest entries whose hash has expired
(retention over) are dropped here.

Called by: store/ops/batch_open.rs, from BatchBuilder::create / enqueue
(jobqueue-core/src/client/batch.rs).

KEYS[1]  P:{Q}:batch:<bid> hash
KEYS[2]  P:{Q}:batches     zset  batch id → created ms
ARGV[1]  batch id
ARGV[2]  description (may be empty)
ARGV[3]  retention ms once finished
ARGV[4]  `<parent queue>|<parent batch id>` for a child batch, or ''
ARGV[5]  open timeout ms: the held batch's life without an add
ARGV[6…] pairs: callback kind (success | complete | death), job record

Returns: 1 created, 0 the id is taken.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = math.floor(now_ms())
local fields = {'total', 0, 'pending', 0, 'succeeded', 0, 'failed', 0, 'dead', 0,
  'holds', 1, 'state', 'open', 'created', now, 'description', ARGV[2],
  'retention_ms', ARGV[3], 'open_timeout_ms', ARGV[5]}
if ARGV[4] ~= '' then
  for _, field in ipairs({'parent', ARGV[4], 'told', 'pending'}) do fields[#fields + 1] = field end
end
for i = 6, #ARGV, 2 do
  fields[#fields + 1] = 'cb:' .. ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
end
redis.call('HSET', KEYS[1], unpack(fields))
local base = flow_base(KEYS[2], ':batches')
if ARGV[4] == '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
else
  redis.call('ZADD', queue_key(base, ':batches_held'), now + tonumber(ARGV[5]), ARGV[1])
end
for _, old in ipairs(redis.call('ZRANGE', KEYS[2], 0, 9)) do
  if redis.call('EXISTS', queue_key(base, ':batch:' .. old)) == 0 then
    redis.call('ZREM', KEYS[2], old)
  end
end
redis.call('ZADD', KEYS[2], now, ARGV[1])
return 1
