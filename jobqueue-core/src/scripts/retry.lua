--[[ retry.lua — failed (or snoozed) jobs wait for a later run.

For each job still leased by this worker: the updated record (attempt
count and error history written by the worker) goes to the jobs hash with
its run_at, and its id to the retry set, due `now + delay` on the Redis
clock. A job no longer leased by this worker is left alone (it was
reclaimed and runs elsewhere). Schedulers are told when the earliest retry
moves earlier.

KEYS[1]  P:{Q}:active:<wid> hash
KEYS[2]  P:{Q}:retry        zset  id → retry-at ms
KEYS[3]  P:{Q}:jobs         hash  id → record
ARGV[1]  P:{Q}:events       pub/sub channel
ARGV[2…] triples: id, delay ms, updated record

Returns: how many jobs moved to the retry set.
]]
local now = now_ms()
local previous_head = min_score(KEYS[2])
local earliest = nil
local moved = 0
for i = 2, #ARGV, 3 do
  local id, delay, record = ARGV[i], tonumber(ARGV[i + 1]) or 0, ARGV[i + 2]
  if redis.call('HDEL', KEYS[1], id) == 1 then
    local at = now + delay
    redis.call('ZADD', KEYS[2], at, id)
    redis.call('HSET', KEYS[3], id, set_run_at(record, at))
    moved = moved + 1
    if earliest == nil or at < earliest then earliest = at end
  end
end
if earliest and (previous_head == nil or earliest < previous_head) then
  redis.call('PUBLISH', ARGV[1], 's')
end
return moved
