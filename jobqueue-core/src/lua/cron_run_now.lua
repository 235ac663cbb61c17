--[[ cron_run_now.lua — an extra run of a cron entry, ready at once.

The operator's "run now": the record is made ready (or prioritised, or
filed in its flow key's list) at once and noted as the entry's last run;
the schedule itself is untouched. Works on a paused entry too (an
explicit request).

Called by: store/ops/cron_run_now.rs, from Admin::run_cron_now
(admin/cron.rs): the operator's "run now", through the dashboard and JSON
API (jobqueue-dashboard/src/actions/cron.rs) or `jobqueue cron run`.

KEYS[1]  P:{Q}:cron:<name> hash
KEYS[2]  P:{Q}:ready       list
KEYS[3]  P:{Q}:priority    zset
ARGV[1]  P:{Q}:events      pub/sub channel
ARGV[2]  the record

Returns: 1, or 0 when there is no such entry (nothing is enqueued).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if not is_record(ARGV[2]) then
  return redis.error_reply('ERR jobqueue: the argument is not a job record')
end
local now = now_ms()
local ready_before = redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3])
local record = set_run_at(ARGV[2], now)
make_ready_all(KEYS[2], KEYS[3], {record}, now)
redis.call('HSET', KEYS[1], 'last_tick', string.format('%d', math.floor(now)), 'last_id', record_id(record))
if ready_before == 0 then
  redis.call('PUBLISH', ARGV[1], 'r')
end
return 1
