--[[ cron_tick.lua — enqueue the runs of a cron entry's ticks, exactly once.

The entry's hash keeps `through`: every tick at or before it has been
handled (enqueued, or skipped by the misfire policy). A scheduler reads
`through` and the Redis clock, works out the ticks after it (the cron
expression is evaluated in Rust), and calls this script with the value it
read. The script is a compare-and-set on `through`: if another scheduler
got there first, `through` has moved and nothing is written. So each tick
is enqueued once however many processes run the entry. Runs whose tick is
still in the future become scheduled jobs (promoted exactly on time by
promote.lua, like any delayed job); runs whose tick has passed become
ready at once. A paused entry enqueues nothing.

Called by: store/ops/cron_tick.rs, from a scheduler pass
(CronEntry::run_pass, cron/tick.rs) made by every worker's cron loop
(jobqueue-worker/src/loops/cron_ticks.rs), by a standalone Scheduler
(jobqueue-worker/src/cron_scheduler.rs, the same loop), and by
Admin::resume_cron (admin/cron.rs) right after a resume.

KEYS[1]  P:{Q}:cron:<name> hash  through, paused, last_tick, last_id, skipped, …
KEYS[2]  P:{Q}:scheduled   zset  id → run-at ms
KEYS[3]  P:{Q}:jobs        hash  id → record
KEYS[4]  P:{Q}:ready       list
KEYS[5]  P:{Q}:priority    zset
ARGV[1]  P:{Q}:events      pub/sub channel
ARGV[2]  `through` as read by the caller ('' when the entry had none)
ARGV[3]  the new `through` (ms)
ARGV[4]  missed ticks skipped by the misfire policy (added to `skipped`)
ARGV[5…] pairs: record, tick ms (oldest first)

Returns: {runs enqueued, 'ok' | 'stale' | 'paused'}
]]
if redis.call('HEXISTS', KEYS[1], 'paused') == 1 then
  return {0, 'paused'}
end
local through = redis.call('HGET', KEYS[1], 'through') or ''
if through ~= ARGV[2] then
  return {0, 'stale'}
end
for i = 5, #ARGV, 2 do
  if not is_record(ARGV[i]) then
    return redis.error_reply('ERR jobqueue: argument ' .. i .. ' is not a job record')
  end
end
local now = now_ms()
local previous_head = min_score(KEYS[2])
local ready_before = redis.call('LLEN', KEYS[4]) + redis.call('ZCARD', KEYS[5])
local earliest, ready_now = nil, {}
local last_tick, last_id = nil, nil
for i = 5, #ARGV, 2 do
  local tick = tonumber(ARGV[i + 1])
  local record = set_run_at(ARGV[i], tick)
  local id = record_id(record)
  if tick <= now then
    ready_now[#ready_now + 1] = record
  else
    redis.call('ZADD', KEYS[2], tick, id)
    redis.call('HSET', KEYS[3], id, record)
    if earliest == nil or tick < earliest then earliest = tick end
  end
  last_tick, last_id = ARGV[i + 1], id
end
redis.call('HSET', KEYS[1], 'through', ARGV[3])
if last_tick then
  redis.call('HSET', KEYS[1], 'last_tick', last_tick, 'last_id', last_id)
end
local skipped = tonumber(ARGV[4]) or 0
if skipped > 0 then
  redis.call('HINCRBY', KEYS[1], 'skipped', skipped)
end
if earliest and (previous_head == nil or earliest < previous_head) then
  redis.call('PUBLISH', ARGV[1], 's')
end
if #ready_now > 0 then
  make_ready_all(KEYS[4], KEYS[5], ready_now, now)
  if ready_before == 0 then
    redis.call('PUBLISH', ARGV[1], 'r')
  end
end
return {(#ARGV - 4) / 2, 'ok'}
