--[[ schedule.lua — enqueue jobs that run later (delayed or at a set time).

Each job gets its run-at on the Redis clock (ms, microsecond fraction):
`now + delay` for a delay, or the given instant. A job whose run-at is not
in the future is made ready at once. The record gets its run_at member and
is kept in the jobs hash; the scheduled set orders the ids by run-at. When
a job becomes the earliest scheduled one, the workers' delayed-job
promoters are told (PUBLISH 's') so they re-arm their timer: delayed jobs
run on time without polling. A job id that another record
of the queue holds in the jobs hash, or that two jobs of the call share,
fails the whole call before anything is written ('duplicate job id').

Called by: store/ops/schedule.rs, when a producer enqueues jobs with a
delay or a run-at time (`enqueue_in`, `enqueue_at`, JobBuilder::delay /
run_at): one job (client/send.rs) or a batch (client/bulk.rs through
store/enqueue.rs).

KEYS[1]  P:{Q}:scheduled zset  id → run-at ms
KEYS[2]  P:{Q}:jobs      hash  id → record
KEYS[3]  P:{Q}:ready     list
KEYS[4]  P:{Q}:priority  zset
ARGV[1]  P:{Q}:events    pub/sub channel
ARGV[2…] triples: record, 'in' | 'at', milliseconds (delay, or instant since the epoch)
Also writes (from KEYS[2]'s base): P:{Q}:tag:<tag> zset, the tag index of
tagged jobs (include/tags.lua), in the same step.

Returns: {scheduled, made ready now}
]]
local now = now_ms()
local ids, seen = {}, {}
for i = 2, #ARGV, 3 do
  if not is_record(ARGV[i]) then
    return redis.error_reply('ERR jobqueue: argument ' .. i .. ' is not a job record')
  end
  if ARGV[i + 1] ~= 'in' and ARGV[i + 1] ~= 'at' then
    return redis.error_reply('ERR jobqueue: argument ' .. (i + 1) .. " must be 'in' or 'at'")
  end
  local id = record_id(ARGV[i])
  if seen[id] then
    return redis.error_reply('ERR jobqueue: duplicate job id ' .. id .. ' (twice in one call)')
  end
  seen[id] = true
  ids[#ids + 1] = id
end
-- A record never replaces another: an id the jobs hash holds (a job
-- scheduled, retrying, dead, … under it) refuses the whole call, before
-- anything is written.
local taken = redis.call('HMGET', KEYS[2], unpack(ids))
for n = 1, #ids do
  if taken[n] then
    return redis.error_reply('ERR jobqueue: duplicate job id ' .. ids[n] .. ' (taken by a stored job)')
  end
end
local base = flow_base(KEYS[2], ':jobs')
local previous_head = min_score(KEYS[1])
local earliest = nil
local scheduled, ready_now = 0, {}
local ready_before = redis.call('LLEN', KEYS[3]) + redis.call('ZCARD', KEYS[4])
for i = 2, #ARGV, 3 do
  local record, mode, ms = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]) or 0
  local at = ms
  if mode == 'in' then at = now + ms end
  record = set_run_at(record, at)
  index_tags(base, record, now)
  if at <= now then
    ready_now[#ready_now + 1] = record
  else
    local id = record_id(record)
    redis.call('ZADD', KEYS[1], at, id)
    redis.call('HSET', KEYS[2], id, record)
    scheduled = scheduled + 1
    if earliest == nil or at < earliest then earliest = at end
  end
end
if earliest and (previous_head == nil or earliest < previous_head) then
  redis.call('PUBLISH', ARGV[1], 's')
end
if #ready_now > 0 then
  make_ready_all(KEYS[3], KEYS[4], ready_now, now)
  if ready_before == 0 then
    redis.call('PUBLISH', ARGV[1], 'r')
  end
end
return {scheduled, #ready_now}
