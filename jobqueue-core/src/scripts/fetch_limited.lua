--[[ fetch_limited.lua — lease ready jobs from a queue with flow limits.

Used instead of fetch.lua for queues that have limits (P:{Q}:limits), so
queues without limits pay nothing. Same lease as fetch.lua, but it leases
no more than the limits allow, across every worker process:

* max_running: at most N jobs of the queue leased at once. "Leased" is
  counted as the sizes of every leasing worker's active hash, so finished,
  reclaimed and handed-back jobs stop counting the moment they leave, with
  no counter to drift. The caller passes the hashes of the workers it
  believes hold leases (a cached list); the script checks the list against
  the leases set and, if it is out of date, returns the current one
  instead ({4, worker id…}) so the caller can ask again.
* rate (token bucket): at most `rate_limit` jobs started per `rate_ms`,
  with bursts up to `rate_limit`. Tokens are refilled continuously on the
  Redis clock and spent only for jobs actually leased.

Jobs held back stay in the ready list, in order: they are not failed and
no attempt is counted. The reply says how long to wait before asking again.

KEYS[1]  P:{Q}:ready        list
KEYS[2]  P:{Q}:priority     zset
KEYS[3]  P:{Q}:active:<wid> hash  (this worker)
KEYS[4]  P:{Q}:leases       zset
KEYS[5]  P:{Q}:paused       string
KEYS[6]  P:{Q}:limits       hash  max_running, rate_limit, rate_ms
KEYS[7]  P:{Q}:rate         hash  tokens, at (token bucket state)
KEYS[8…] P:{Q}:active:<wid> hashes of the workers holding a lease
ARGV[1]  worker id
ARGV[2]  most jobs to lease (1-1000)
ARGV[3…] the worker ids of KEYS[8…], in the same order

Returns: as fetch.lua ({0, record…} / {1} paused / {2} no lease),
         {3, retry_after_ms} when the limits allow nothing now, or
         {4, worker id…} when the worker list passed in is out of date.
]]
if redis.call('EXISTS', KEYS[5]) == 1 then
  return {1}
end
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  return {2}
end
local want = tonumber(ARGV[2])
local limits = redis.call('HMGET', KEYS[6], 'max_running', 'rate_limit', 'rate_ms')
local max_running, rate_limit, rate_ms = tonumber(limits[1]), tonumber(limits[2]), tonumber(limits[3])
-- How long to wait when the running limit binds: no event announces a
-- finished job elsewhere, so ask again soon.
local RUNNING_RETRY_MS = 50

if max_running then
  local passed = #KEYS - 7
  local current = redis.call('ZCARD', KEYS[4]) == passed
  for i = 1, passed do
    if not current then break end
    current = redis.call('ZSCORE', KEYS[4], ARGV[2 + i]) ~= false
  end
  if not current then
    local out = {4}
    for _, wid in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do out[#out + 1] = wid end
    return out
  end
  local running = 0
  for i = 8, #KEYS do
    running = running + redis.call('HLEN', KEYS[i])
  end
  if running >= max_running then
    return {3, RUNNING_RETRY_MS}
  end
  want = math.min(want, max_running - running)
end

local now, tokens = nil, nil
if rate_limit and rate_ms and rate_limit > 0 and rate_ms > 0 then
  now = now_ms()
  local bucket = redis.call('HMGET', KEYS[7], 'tokens', 'at')
  tokens = tonumber(bucket[1]) or rate_limit
  local at = tonumber(bucket[2]) or now
  tokens = math.min(rate_limit, tokens + (now - at) * rate_limit / rate_ms)
  if tokens < 1 then
    redis.call('HSET', KEYS[7], 'tokens', tostring(tokens), 'at', ms_text(now))
    return {3, math.ceil((1 - tokens) * rate_ms / rate_limit)}
  end
  want = math.min(want, math.floor(tokens))
end

local out = lease_ready(KEYS[1], KEYS[2], KEYS[3], want)
if tokens then
  tokens = tokens - (#out - 1)
  redis.call('HSET', KEYS[7], 'tokens', tostring(tokens), 'at', ms_text(now))
  redis.call('PEXPIRE', KEYS[7], math.max(rate_ms * 2, 1000))
end
return out
