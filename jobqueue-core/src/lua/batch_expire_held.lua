--[[ batch_expire_held.lua — child batches whose producer stopped adding
before sealing them are cancelled when their open timeout passed.

A plain batch held past its open timeout simply expires (a TTL); a child
batch cannot (its parent would wait for it for ever), so batch_open.lua
indexes it in P:{Q}:batches_held (id → deadline, renewed by every
batch_add.lua, removed by batch_seal.lua). Each entry whose deadline
passed on the Redis clock is taken here: a batch still held is cancelled
as batch_cancel.lua marks it (no more jobs, no callback, hold dropped);
its jobs still waiting run and are counted, and once nothing is pending
it tells its parent its unit ended `cancelled` (batch_settle in
include/batch.lua) — at once when it had no pending job. An entry of a
batch no longer held (sealed, cancelled, or gone) is just dropped.

Called by: store/ops/batch_expire_held.rs, from the workers' reaper
(jobqueue-worker/src/loops/reaper.rs), every reap interval per queue.

KEYS[1]  P:{Q}:batches_held zset  child batch id → open deadline (ms)
KEYS[2]  P:{Q}:ready        list (callbacks go here)
ARGV[1]  most entries taken in this call

Returns: number of child batches cancelled.
]]
local now = now_ms()
local due = redis.call('ZRANGE', KEYS[1], '-inf', math.floor(now), 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[1]))
local base = flow_base(KEYS[1], ':batches_held')
local cancelled = 0
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  local batch_key = queue_key(base, ':batch:' .. id)
  local v = redis.call('HMGET', batch_key, 'state', 'holds')
  if v[1] == 'open' and (tonumber(v[2]) or 0) > 0 then
    redis.call('HSET', batch_key, 'state', 'cancelled', 'cancelled_at', math.floor(now),
      'holds', 0, 'cancel_reason', 'open timeout')
    batch_settle(batch_key, KEYS[2], now)
    cancelled = cancelled + 1
  end
end
return cancelled
