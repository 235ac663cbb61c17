--[[ audit_refusal.lua — may this refused request be written to the audit log?

Refused requests (bad credentials, a read-only user's action, a failed CSRF
or origin check, a foreign Host) are logged at most ARGV[1] per window of
ARGV[2] ms for each kind, counted in Redis so the bound holds across every
dashboard replica: a flood of refusals cannot push real actions out of the
capped log. The refusals over the bound are counted, and the count of a
past window is handed back once, to the first refusal of a later window,
whose caller writes one summary entry for it.

Called by: store/ops/audit_refusal.rs, from Admin::record_refusal
(admin/audit.rs) when the dashboard refuses a request
(jobqueue-dashboard/src/audit_log.rs).

KEYS[1]  P:audit:refusals:<reason>  hash  window (start, ms), logged, suppressed
ARGV[1]  most refusals logged per window
ARGV[2]  window length, ms
ARGV[3]  time to keep the hash after the last refusal, ms

Time comes from Redis (TIME), the one clock of every replica.

Returns: {log, suppressed, suppressed_window}: log 1 when this refusal is
         to be written, 0 when not; suppressed > 0 when a past window
         dropped that many refusals (suppressed_window is its start, ms).
]]
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window_ms = tonumber(ARGV[2])
local window = now_ms - (now_ms % window_ms)
local state = redis.call('HMGET', KEYS[1], 'window', 'logged', 'suppressed')
local logged = tonumber(state[2]) or 0
local past_suppressed, past_window = 0, 0
if tonumber(state[1]) ~= window then
  if (tonumber(state[3]) or 0) > 0 then
    past_suppressed = tonumber(state[3])
    past_window = tonumber(state[1])
  end
  logged = 0
  redis.call('HSET', KEYS[1], 'window', window, 'logged', 0, 'suppressed', 0)
end
local log = 0
if logged < tonumber(ARGV[1]) then
  redis.call('HINCRBY', KEYS[1], 'logged', 1)
  log = 1
else
  redis.call('HINCRBY', KEYS[1], 'suppressed', 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {log, past_suppressed, past_window}
