--[[ cron_resume.lua — resume a paused cron entry, skipping the ticks it missed.

Clears `paused` and moves `through` to now (Redis clock), so the ticks that
fell while the entry was paused are not run afterwards as misfires: a pause
means "do not run", not "run later". The next tick after now is enqueued by
the next scheduler pass (cron_tick.lua).

Called by: store/ops/cron_resume.rs, from Admin::resume_cron
(admin/cron.rs), which then makes a scheduler pass (cron_tick.lua): the
operator, through the dashboard and JSON API
(jobqueue-dashboard/src/actions/cron.rs) or `jobqueue cron resume`.

KEYS[1]  P:{Q}:cron:<name> hash

Returns: 1 when the entry was paused, 0 when it was not (nothing changes),
         -1 when there is no such entry.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if redis.call('HDEL', KEYS[1], 'paused') == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'through', string.format('%d', math.floor(now_ms())))
return 1
