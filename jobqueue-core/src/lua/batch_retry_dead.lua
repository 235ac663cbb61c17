--[[ batch_retry_dead.lua — operator action: the dead jobs of one batch
run again.

Each id remembered as dead in the batch (`dead:<id>`) that is still in
the queue's dead set leaves it: its record goes to the ready list with a
fresh set of attempts, and the batch counts it again (`dead` - 1,
`pending` + 1). A finished batch is open again and its retention clock
stops, so when the retried jobs succeed its on_success fires (on_complete
and on_death fired already and never fire twice). Ids trimmed from the
dead set meanwhile are forgotten (they cannot run: still counted dead).

Called by: store/ops/batch_retry_dead.rs, from Admin::batch_retry_dead
(jobqueue-core/src/admin/batches.rs), used by the dashboard, the JSON API
and `jobqueue batch <id> --retry-dead`.

KEYS[1]  P:{Q}:batch:<bid> hash
KEYS[2]  P:{Q}:dead        zset
KEYS[3]  P:{Q}:jobs        hash
KEYS[4]  P:{Q}:ready       list
ARGV[1]  P:{Q}:events      pub/sub channel

Returns: number of jobs put back, -1 when there is no such batch.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local fields = redis.call('HKEYS', KEYS[1])
local retried, forgotten, records = {}, {}, {}
for _, field in ipairs(fields) do
  if string.sub(field, 1, 5) == 'dead:' then
    local id = string.sub(field, 6)
    forgotten[#forgotten + 1] = field
    local record = redis.call('HGET', KEYS[3], id)
    if record and redis.call('ZREM', KEYS[2], id) == 1 then
      redis.call('HDEL', KEYS[3], id)
      retried[#retried + 1] = id
      records[#records + 1] = reset_attempt(record)
    end
  end
end
if #forgotten > 0 then redis.call('HDEL', KEYS[1], unpack(forgotten)) end
local n = #records
if n > 0 then
  redis.call('HINCRBY', KEYS[1], 'dead', -n)
  redis.call('HINCRBY', KEYS[1], 'pending', n)
  redis.call('HSET', KEYS[1], 'state', 'open')
  redis.call('PERSIST', KEYS[1])
  redis.call('RPUSH', KEYS[4], unpack(records))
  redis.call('PUBLISH', ARGV[1], 'r')
end
return n
