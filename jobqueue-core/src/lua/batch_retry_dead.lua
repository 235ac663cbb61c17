--[[ batch_retry_dead.lua — operator action: the dead jobs of one batch
run again, one page of ids per call.

The caller (store/ops/batch_retry_dead.rs) walks the batch hash's
`dead:<id>` fields with HSCAN and sends at most 1000 ids per call, so no
call reads the whole hash or unpacks more than a page. Each id still
remembered dead in the batch and still in the queue's dead set leaves it:
its record goes to the ready list with a fresh set of attempts, and the
batch counts it again (`dead` - 1, `pending` + 1). Every check is made
before the first write, and a job leaves the dead set only in the step
that pushes it to the ready list: an error never loses a job. A finished
batch is open again and its retention clock stops (a held batch keeps its open timeout), so when the retried
jobs succeed its on_success fires (on_complete and on_death fired already
and never fire twice); a cancelled batch stays cancelled (its jobs run and
are counted, no callback fires). Ids trimmed from the dead set meanwhile
are forgotten (they cannot run: still counted dead). A child batch
opened again tells its parent (batch_reopen in include/batch.lua): its
unit there is pending again.

Called by: store/ops/batch_retry_dead.rs, from Admin::batch_retry_dead
(jobqueue-core/src/admin/batches.rs), used by the dashboard, the JSON API
and `jobqueue batch <id> --retry-dead`.

KEYS[1]  P:{Q}:batch:<bid> hash
KEYS[2]  P:{Q}:dead        zset
KEYS[3]  P:{Q}:jobs        hash
KEYS[4]  P:{Q}:ready       list
ARGV[1]  P:{Q}:events      pub/sub channel
ARGV[2…] job ids (at most 1000), from the batch's `dead:<id>` fields

Returns: number of jobs put back, -1 when there is no such batch.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if #ARGV > 1001 then return redis.error_reply('ERR batch_retry_dead: more than 1000 ids') end
local retried, forgotten, records = {}, {}, {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], 'dead:' .. id) == 1 then
    forgotten[#forgotten + 1] = 'dead:' .. id
    local record = redis.call('HGET', KEYS[3], id)
    if record and redis.call('ZSCORE', KEYS[2], id) then
      retried[#retried + 1] = id
      records[#records + 1] = reset_attempt(record)
    end
  end
end
local n = #records
if n > 0 then
  redis.call('RPUSH', KEYS[4], unpack(records))
  redis.call('ZREM', KEYS[2], unpack(retried))
  redis.call('HDEL', KEYS[3], unpack(retried))
end
if #forgotten > 0 then redis.call('HDEL', KEYS[1], unpack(forgotten)) end
if n > 0 then
  redis.call('HINCRBY', KEYS[1], 'dead', -n)
  redis.call('HINCRBY', KEYS[1], 'pending', n)
  batch_reopen(KEYS[1], now_ms())
  redis.call('PUBLISH', ARGV[1], 'r')
end
return n
