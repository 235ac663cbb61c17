--[[ bury.lua — jobs that will not run again go to the dead set.

For each job still leased by this worker, its final record (with the error
history) goes to the jobs hash and its id to the dead set, scored by time of
death. Then the dead set is trimmed: first entries older than the maximum
age, then the oldest entries above the maximum size. Trimming removes at
most max(100, 2 × buried) entries per call, so one call stays cheap and the
set still cannot outgrow its cap; every trimmed job is counted in the
queue's `dead_trimmed` counter (never silently lost).

KEYS[1]  P:{Q}:active:<wid> hash
KEYS[2]  P:{Q}:dead         zset  id → died-at ms
KEYS[3]  P:{Q}:jobs         hash
KEYS[4]  P:{Q}:stats        hash
ARGV[1]  most dead jobs kept
ARGV[2]  most age of a dead job, ms
ARGV[3…] triples: id as leased, id in the dead set (differs only for a
         record too damaged to carry a valid id), final record

Returns: {buried, trimmed}
]]
local now = now_ms()
local max_jobs, max_age = tonumber(ARGV[1]), tonumber(ARGV[2])
local buried = 0
for i = 3, #ARGV, 3 do
  local leased_id, dead_id, record = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('HDEL', KEYS[1], leased_id) == 1 then
    redis.call('ZADD', KEYS[2], now, dead_id)
    redis.call('HSET', KEYS[3], dead_id, record)
    buried = buried + 1
  end
end
local budget = math.max(100, 2 * buried)
local trimmed = 0
local function remove(ids)
  if #ids > 0 then
    redis.call('ZREM', KEYS[2], unpack(ids))
    redis.call('HDEL', KEYS[3], unpack(ids))
    trimmed = trimmed + #ids
  end
end
remove(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - max_age), 'LIMIT', 0, budget))
local excess = redis.call('ZCARD', KEYS[2]) - max_jobs
if excess > 0 and budget - trimmed > 0 then
  remove(redis.call('ZRANGE', KEYS[2], 0, math.min(excess, budget - trimmed) - 1))
end
if buried > 0 then
  redis.call('HINCRBY', KEYS[4], 'dead', buried)
end
if trimmed > 0 then
  redis.call('HINCRBY', KEYS[4], 'dead_trimmed', trimmed)
end
return {buried, trimmed}
