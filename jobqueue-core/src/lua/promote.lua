--[[ promote.lua — due scheduled jobs and due retries become ready.

Moves every job whose run-at is not after now (Redis clock) from the
scheduled and retry sets to the ready list (or the priority set, or a
keyed job's flow-key list: make_ready_all in include/flow.lua), at most
ARGV[2] per call. Atomic, so with any number of promoters calling it each
due job is promoted exactly once, and never early. Returns the next due
time and the Redis clock (ms with microsecond fractions, as text) so the
caller can sleep exactly until then without comparing two clocks.

Called by: store/ops/promote.rs, from the worker's delayed-job promoter
(jobqueue-worker/src/loops/promoter.rs, on the housekeeping thread),
which sleeps until the next due time this script returns and is woken
early by `s` on the events channel.

KEYS[1]  P:{Q}:scheduled zset  id → run-at ms
KEYS[2]  P:{Q}:retry     zset  id → retry-at ms
KEYS[3]  P:{Q}:jobs      hash  id → record
KEYS[4]  P:{Q}:ready     list
KEYS[5]  P:{Q}:priority  zset
ARGV[1]  P:{Q}:events    pub/sub channel
ARGV[2]  most jobs to move in this call

Returns: {moved, next run-at ms or '' when nothing is scheduled, now ms}
         (times as text, e.g. '1732500000123.456')
]]
local now = now_ms()
local limit = tonumber(ARGV[2])
local moved = 0
for _, set_key in ipairs({KEYS[1], KEYS[2]}) do
  if moved < limit then
    local ids = redis.call('ZRANGEBYSCORE', set_key, '-inf', ms_text(now), 'LIMIT', 0, limit - moved)
    if #ids > 0 then
      local found = redis.call('HMGET', KEYS[3], unpack(ids))
      local records = {}
      for i = 1, #ids do
        if found[i] then records[#records + 1] = found[i] end
      end
      -- Out of the jobs hash first: make_ready_all files keyed records
      -- back into it (their key's list holds only ids).
      redis.call('ZREM', set_key, unpack(ids))
      redis.call('HDEL', KEYS[3], unpack(ids))
      make_ready_all(KEYS[4], KEYS[5], records, now)
      moved = moved + #records
    end
  end
end
if moved > 0 then
  redis.call('PUBLISH', ARGV[1], 'r')
end
local next_due = nil
for _, set_key in ipairs({KEYS[1], KEYS[2]}) do
  local head = min_score(set_key)
  if head and (next_due == nil or head < next_due) then next_due = head end
end
return {moved, next_due and ms_text(next_due) or '', ms_text(now)}
