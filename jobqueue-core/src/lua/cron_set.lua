--[[ cron_set.lua — set one field of an existing cron entry.

Used to pause an entry (`paused`) and to record the result of its last
finished run (`result`). Writing only when the entry exists keeps a late
result, or a pause racing a removal, from bringing a removed entry back.

Called by: store/ops/cron_set.rs, from Admin::pause_cron (admin/cron.rs;
field `paused`: the operator, through the dashboard, the JSON API or
`jobqueue cron pause`) and from the worker that ran a cron job
(jobqueue-worker/src/run/cron_result.rs; field `result`).

KEYS[1]  P:{Q}:cron:<name> hash
ARGV[1]  field
ARGV[2]  value

Returns: 1, or 0 when there is no such entry (nothing is written).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
