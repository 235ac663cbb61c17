--[[ login_attempt.lua — may this dashboard sign-in attempt be checked?

Sign-in attempts are throttled per client address and per user name, in
Redis so every dashboard replica shares the counts. Each attempt is
counted before the password is checked (so a burst of parallel guesses
cannot all be checked before the first failure is counted); a successful
sign-in then clears its user's count (store/commands/sessions.rs). A
counter lives one window from its first attempt (a fixed window).

Called by: store/ops/login_attempt.rs, from Admin::login_attempt
(admin/sessions.rs) before the dashboard checks a sign-in form's
credentials (jobqueue-dashboard/src/ui/sign_in/mod.rs), and after it
refused a wrong Authorization header
(jobqueue-dashboard/src/security/header_throttle.rs).

KEYS[1]  P:{login}:attempts:ip:<address>   string  attempts from the address in the window (TTL)
KEYS[2]  P:{login}:attempts:user:<sha256>  string  attempts at the user name in the window (TTL)
ARGV[1]  most attempts per window per address (0: not counted, the address is unknown)
ARGV[2]  most attempts per window per user name (0: not counted)
ARGV[3]  window length, ms

Returns: {1, 0} when the attempt may go on (and was counted), or
         {0, ms} when a limit is reached: ms until the window that
         blocks it ends.
]]
local window_ms = tonumber(ARGV[3])
local limits = {tonumber(ARGV[1]), tonumber(ARGV[2])}
local wait = 0
for i = 1, 2 do
  if limits[i] > 0 and (tonumber(redis.call('GET', KEYS[i])) or 0) >= limits[i] then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then ttl = window_ms end
    wait = math.max(wait, ttl)
  end
end
if wait > 0 then
  return {0, wait}
end
for i = 1, 2 do
  if limits[i] > 0 then
    redis.call('INCR', KEYS[i])
    if redis.call('PTTL', KEYS[i]) < 0 then
      redis.call('PEXPIRE', KEYS[i], window_ms)
    end
  end
end
return {1, 0}
