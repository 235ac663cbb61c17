--[[ bury.lua — jobs that will not run again go to the dead set.

For each job still leased by this worker, its final record (with the error
history) goes to the jobs hash and its id to the dead set, scored by time of
death, and a unique job's lock is freed (see release_unique in
include/flow.lua). Then the dead set is trimmed: first entries older than the maximum
age, then the oldest entries above the maximum size. Trimming removes at
most max(100, 2 × buried) entries per call, so one call stays cheap and the
set still cannot outgrow its cap; every trimmed job is counted in the
queue's `dead_trimmed` counter (never silently lost). The jobs buried are
counted as `failed` (their last attempt failed, or the job could not run at
all) in the queue's counters and time buckets (count_ended in include/lib.lua), and
as `dead`. A dead id another record of the queue already holds (two records
pushed under one id) is not overwritten: the newcomer is filed under a new
id with a "duplicate job id" error (bury_duplicate in include/records.lua).

Called by: store/ops/bury.rs, packed by store/completion.rs for the
jobs of a worker's batch that will not run again — attempts exhausted, a
permanent error, or a job that cannot run (decided in
jobqueue-worker/src/run/runner.rs, its record built in run/outcome.rs) —
sent by the outcome writer
(jobqueue-worker/src/loops/outcome_writer.rs) or the inline worker
(jobqueue-worker/src/inline.rs).

KEYS[1]  P:{Q}:active:<wid> hash
KEYS[2]  P:{Q}:dead         zset  id → died-at ms
KEYS[3]  P:{Q}:jobs         hash
KEYS[4]  P:{Q}:stats        hash
KEYS[5]  P:{Q}:gready       zset (only when some jobs are keyed, and always
         with KEYS[6…]: the keys of keyed jobs are released, see
         include/flow.lua)
Only for jobs enqueued with dependents (the caller sends them in calls of
their own), whose death is recorded for their dependents in the same step
(see resolve_parent in include/flow.lua):
KEYS[6]  P:{Q}:releases     zset  outbox
KEYS[7…] P:{Q}:parent:<id>  hash, one per triple, in ARGV order
ARGV[1]  most dead jobs kept
ARGV[2]  most age of a dead job, ms
ARGV[3…] triples: id as leased, id in the dead set (differs only for a
         record too damaged to carry a valid id), final record

Returns: {buried, trimmed, outbox entries filed…}
]]
local now = now_ms()
local max_jobs, max_age = tonumber(ARGV[1]), tonumber(ARGV[2])
local leased_ids = {}
for i = 3, #ARGV, 3 do leased_ids[#leased_ids + 1] = ARGV[i] end
local leased = redis.call('HMGET', KEYS[1], unpack(leased_ids))
local gone, scored, records, twins = {}, {}, {}, {}
-- A record never replaces another (include/records.lua): a dead id another
-- record of the queue holds (or an earlier job of this call) is taken.
local dead_ids = {}
for n = 1, #leased_ids do
  if leased[n] then dead_ids[#dead_ids + 1] = ARGV[3 + (n - 1) * 3 + 1] end
end
local taken = #dead_ids > 0 and redis.call('HMGET', KEYS[3], unpack(dead_ids)) or {}
local k, filing = 0, {}
for n = 1, #leased_ids do
  if leased[n] then
    local i = 3 + (n - 1) * 3
    k = k + 1
    gone[#gone + 1] = ARGV[i]
    if taken[k] or filing[ARGV[i + 1]] then
      twins[#twins + 1] = ARGV[i + 2]
    else
      filing[ARGV[i + 1]] = true
      scored[#scored + 1] = now
      scored[#scored + 1] = ARGV[i + 1]
      records[#records + 1] = ARGV[i + 1]
      records[#records + 1] = ARGV[i + 2]
    end
  end
end
local buried = #gone
if buried > 0 then
  redis.call('HDEL', KEYS[1], unpack(gone))
  if #scored > 0 then
    redis.call('ZADD', KEYS[2], unpack(scored))
    redis.call('HSET', KEYS[3], unpack(records))
  end
  for _, record in ipairs(twins) do
    bury_duplicate(flow_base(KEYS[2], ':dead'), record, now, 'stored in the queue')
  end
  if KEYS[5] then flow_leave(flow_base(KEYS[5], ':gready'), leased) end
  local base = flow_base(KEYS[2], ':dead')
  for n = 1, #leased_ids do
    if leased[n] then release_unique(base, leased[n]) end
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
remove(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ms_text(now - max_age), 'LIMIT', 0, budget))
local excess = redis.call('ZCARD', KEYS[2]) - max_jobs
if excess > 0 and budget - trimmed > 0 then
  remove(redis.call('ZRANGE', KEYS[2], 0, math.min(excess, budget - trimmed) - 1))
end
if buried - #twins > 0 then
  -- (bury_duplicate counted the twins as dead.)
  redis.call('HINCRBY', KEYS[4], 'dead', buried - #twins)
end
if buried > 0 then
  count_ended(KEYS[4], 'failed', buried, now)
end
if trimmed > 0 then
  redis.call('HINCRBY', KEYS[4], 'dead_trimmed', trimmed)
end
local out = {buried, trimmed}
if #KEYS > 5 then
  for n = 1, #leased_ids do
    local id = ARGV[3 + (n - 1) * 3 + 1]
    if leased[n] and resolve_parent(KEYS[6 + n], KEYS[6], id, 'failed', now) then
      out[#out + 1] = id .. '|failed'
    end
  end
end
return out
