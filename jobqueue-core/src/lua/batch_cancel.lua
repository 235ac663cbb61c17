--[[ batch_cancel.lua — operator action: cancel a batch, one page at a time.

The first call (ARGV[4] = 0 on the ready list) marks the batch cancelled:
it takes no more jobs (batch_add.lua refuses), its producer's hold is
dropped, and it fires no callback; its
jobs still running end and are counted as usual, and when nothing is
pending its retention clock starts (batch_settle in include/batch.lua).
Each call then looks at one page of the queue's ready list (or, in the
second phase, of its retry set): the jobs of the batch found there leave
it for the cancelled set (file_finished in include/flow.lua, bounded like
the cancel of one job) and are counted `cancelled` in the batch and
`pending` - n, in the same step. The caller pages on with the returned
position until it is -1; a long queue is scanned a page per call, never
blocking Redis for long (each removal from the ready list is an LREM from
the head, O(position)).

Called by: store/ops/batch_cancel.rs, from Admin::batch_cancel
(jobqueue-core/src/admin/batches.rs), used by the dashboard, the JSON API
and `jobqueue batch <id> --cancel`.

KEYS[1]  P:{Q}:batch:<bid> hash
KEYS[2]  P:{Q}:ready       list
KEYS[3]  P:{Q}:retry       zset
KEYS[4]  P:{Q}:jobs        hash
KEYS[5]  P:{Q}:cancelled   zset
KEYS[6]  P:{Q}:stats       hash
ARGV[1]  batch id
ARGV[2]  most cancelled jobs kept
ARGV[3]  most age of a cancelled job, ms
ARGV[4]  position of the page (0 on the first call)
ARGV[5]  page size
ARGV[6]  'ready' or 'retry': the place the page is taken from

Returns: {jobs cancelled by this call, next position or -1 when this
place is done}, or {-1, -1} when there is no such batch.

A `cancelled` entry goes to the queue's event stream, and the job's history
entry to its history, when they are on (observe_finished in
include/observe.lua).
]]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {-1, -1} end
local now = now_ms()
local max_kept, max_age = tonumber(ARGV[2]), tonumber(ARGV[3])
local start, size = tonumber(ARGV[4]), tonumber(ARGV[5])
local member = ',"batch":"' .. ARGV[1] .. '"'
if start == 0 and ARGV[6] == 'ready' and state ~= 'cancelled' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'cancelled_at', math.floor(now), 'holds', 0)
end
local cancelled, next_start = 0, -1
if ARGV[6] == 'ready' then
  local page = redis.call('LRANGE', KEYS[2], start, start + size - 1)
  for _, record in ipairs(page) do
    if is_record(record) and record_in_batch(record, member)
      and redis.call('LREM', KEYS[2], 1, record) == 1 then
      cancelled = cancelled + 1
      file_finished(KEYS[5], KEYS[4], KEYS[6], 'cancelled', record_id(record), record, now, max_kept, max_age)
      observe_finished(flow_base(KEYS[4], ':jobs'), 'cancelled', record_id(record), record, now)
    end
  end
  if #page == size then next_start = start + size - cancelled end
else
  local ids = redis.call('ZRANGE', KEYS[3], start, start + size - 1)
  local records = #ids > 0 and redis.call('HMGET', KEYS[4], unpack(ids)) or {}
  for i, id in ipairs(ids) do
    local record = records[i]
    if record and record_in_batch(record, member) then
      redis.call('ZREM', KEYS[3], id)
      cancelled = cancelled + 1
      file_finished(KEYS[5], KEYS[4], KEYS[6], 'cancelled', id, record, now, max_kept, max_age)
      observe_finished(flow_base(KEYS[4], ':jobs'), 'cancelled', id, record, now)
    end
  end
  if #ids == size then next_start = start + size - cancelled end
end
if cancelled > 0 then
  redis.call('HINCRBY', KEYS[1], 'cancelled', cancelled)
  redis.call('HINCRBY', KEYS[1], 'pending', -cancelled)
end
batch_settle(KEYS[1], KEYS[2], now)
return {cancelled, next_start}
