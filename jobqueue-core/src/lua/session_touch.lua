--[[ session_touch.lua — look up a dashboard session and renew its idle timeout.

Every request that carries a session cookie calls this once: a session
past its absolute expiry is deleted and reported missing; a live one gets
its idle timeout back (never past the absolute expiry).

Called by: store/ops/session_touch.rs, from Admin::dashboard_session
(admin/sessions.rs) for each dashboard request with a session cookie
(jobqueue-dashboard/src/security/sessions.rs).

KEYS[1]  P:dashboard:session:<sha256 of the id>  hash  name, kind, role, expires (ms)
ARGV[1]  idle timeout, ms

Time comes from Redis (TIME), the clock session_open.lua fixed the
expiry with.

Returns: {} when there is no such live session, else
         {name, kind, role, expires (ms)}.
]]
local state = redis.call('HMGET', KEYS[1], 'name', 'kind', 'role', 'expires')
local expires = tonumber(state[4])
if not state[1] or not state[2] or not state[3] or not expires then
  return {}
end
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if now_ms >= expires then
  redis.call('DEL', KEYS[1])
  return {}
end
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[1]), expires - now_ms))
return {state[1], state[2], state[3], tostring(expires)}
