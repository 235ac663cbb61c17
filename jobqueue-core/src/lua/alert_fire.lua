--[[ alert_fire.lua — let an alert fire: deduplicate it, rate-limit it per sink.

An alert rule found its condition true for one fingerprint (a queue, a
cron tick, an error). The firing is dropped when the same rule fired for
the same fingerprint within its cool-down (deduplication; counted as
`deduped`). Otherwise it is recorded as the rule's last firing and, for
each sink it goes to, counted in that sink's minute window: within the
sink's limit it is to be sent, over it it is suppressed (counted in the
sink's `pending` and `suppressed_total` and the rule's `suppressed`). The
next firing a sink sends is told how many were suppressed since its last
one (and `pending` starts again at 0), so nothing vanishes silently.
Deciding this in one script keeps the bound across evaluators and
restarts (a new leader sees the same windows and cool-downs).

Called by: store/ops/alert_fire.rs, from Admin::alert_fire
(admin/alerts.rs), by the leading dashboard's alert evaluator
(jobqueue-dashboard/src/alerts/evaluator.rs) for each finding, and by
`jobqueue alerts test` (cool-down 0: a test firing is never deduplicated).

KEYS[1]    P:{alerts}:rule:<rule>                  hash    last_fired, last_fingerprint, last_message, fired, deduped, suppressed
KEYS[2]    P:{alerts}:dedup:<sha256>               string  present during the cool-down (SHA-256 of <rule>\0<fingerprint>)
KEYS[3…]   P:{alerts}:sink:<sink>                  hash    window, sent, pending, suppressed_total
ARGV[1]    cool-down, ms (0: no deduplication)
ARGV[2]    the fingerprint
ARGV[3]    the firing's message
ARGV[4]    how long a sink's hash is kept after its last firing, ms
ARGV[5…]   per sink (same order as KEYS[3…]): most firings sent per minute

Time comes from Redis (TIME): the minute windows of every evaluator agree.

Returns: {'deduped'}, or {'fired', send_1, pending_1, send_2, pending_2, …}:
         send_i 1 when sink i is to be sent the firing, 0 when suppressed;
         pending_i the firings sink i suppressed since its last sent one.
]]
local now = math.floor(now_ms())
local cooldown = tonumber(ARGV[1])
if cooldown > 0 and not redis.call('SET', KEYS[2], now, 'NX', 'PX', cooldown) then
  redis.call('HINCRBY', KEYS[1], 'deduped', 1)
  return {'deduped'}
end
redis.call('HSET', KEYS[1], 'last_fired', now, 'last_fingerprint', ARGV[2], 'last_message', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'fired', 1)
local window = now - (now % 60000)
local out = {'fired'}
for i = 3, #KEYS do
  local limit = tonumber(ARGV[i + 2])
  local state = redis.call('HMGET', KEYS[i], 'window', 'sent', 'pending')
  local sent = tonumber(state[2]) or 0
  if tonumber(state[1]) ~= window then
    sent = 0
    redis.call('HSET', KEYS[i], 'window', window, 'sent', 0)
  end
  if sent < limit then
    redis.call('HINCRBY', KEYS[i], 'sent', 1)
    redis.call('HSET', KEYS[i], 'pending', 0)
    out[#out + 1] = 1
    out[#out + 1] = tonumber(state[3]) or 0
  else
    redis.call('HINCRBY', KEYS[i], 'pending', 1)
    redis.call('HINCRBY', KEYS[i], 'suppressed_total', 1)
    redis.call('HINCRBY', KEYS[1], 'suppressed', 1)
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
  redis.call('PEXPIRE', KEYS[i], ARGV[4])
end
return out
