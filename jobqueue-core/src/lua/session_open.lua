--[[ session_open.lua — open a dashboard sign-in session.

A browser that signed in to the dashboard holds a random 256-bit session
id in a cookie; Redis holds only its SHA-256, as the key of a hash that
says who signed in. The hash lives for the idle timeout (each request
renews it, session_touch.lua) and never past its absolute expiry, which
is fixed here from the Redis clock.

Called by: store/ops/session_open.rs, from Admin::open_dashboard_session
(admin/sessions.rs) when a dashboard sign-in succeeds
(jobqueue-dashboard/src/ui/sign_in/mod.rs).

KEYS[1]  P:dashboard:session:<sha256 of the id>  hash  name, kind, role, expires (ms)
ARGV[1]  principal name (credential label or user name)
ARGV[2]  credential kind (basic, bearer)
ARGV[3]  role (operator, read_only)
ARGV[4]  idle timeout, ms
ARGV[5]  absolute lifetime, ms

Time comes from Redis (TIME), the one clock of every dashboard replica.

Returns: the absolute expiry, ms (Redis clock).
]]
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local idle_ms = tonumber(ARGV[4])
local lifetime_ms = tonumber(ARGV[5])
local expires = now_ms + lifetime_ms
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'kind', ARGV[2], 'role', ARGV[3], 'expires', expires)
redis.call('PEXPIRE', KEYS[1], math.min(idle_ms, lifetime_ms))
return expires
