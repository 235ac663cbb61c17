--[[ retry.lua — failed (or snoozed) jobs wait for a later run.

For each job still leased by this worker: the updated record (attempt
count and error history written by the worker) goes to the jobs hash with
its run_at, and its id to the retry set, due `now + delay` on the Redis
clock. A job no longer leased by this worker is left alone (it was
reclaimed and runs elsewhere). The workers' delayed-job promoters are told
(PUBLISH 's') when the earliest retry moves earlier. Failed attempts (ARGV[2] = 1) are counted as `failed` in the
queue's counters and time buckets (count_ended in include/lib.lua); snoozes
(ARGV[2] = 0) are not failures and count nothing. A job whose id another
record of the queue holds in the
jobs hash (two records pushed under one id) does not overwrite it: it is
dead-lettered under a new id with a "duplicate job id" error
(bury_duplicate in include/records.lua).

Called by: store/ops/retry.rs, packed by store/completion.rs for the
jobs of a worker's batch that failed with attempts left or snoozed
(their records built in jobqueue-worker/src/run/outcome.rs), sent by
the outcome writer
(jobqueue-worker/src/loops/outcome_writer.rs) or the inline worker
(jobqueue-worker/src/inline.rs).

KEYS[1]  P:{Q}:active:<wid> hash
KEYS[2]  P:{Q}:retry        zset  id → retry-at ms
KEYS[3]  P:{Q}:jobs         hash  id → record
KEYS[4]  P:{Q}:stats        hash
KEYS[5]  P:{Q}:gready       zset (only when some jobs are keyed: their
         keys are released, see include/flow.lua; the retry is filed in its key's
         list when it is due)
KEYS[6]  P:{Q}:batch:<bid>  hash (only for jobs of one batch, sent in calls
         of their own with KEYS[5] given: their failed attempts are
         counted in the batch's `failed`; plain jobs pay nothing)
ARGV[1]  P:{Q}:events       pub/sub channel
ARGV[2]  1 when the jobs failed an attempt, 0 when they snoozed
ARGV[3…] triples: id, delay ms, updated record

A `retrying` entry (a failed attempt; `snoozed` for a snooze) with the
due times goes to the queue's event stream when it is on
(include/observe.lua).

Returns: how many jobs left this worker (moved to the retry set, or
         dead-lettered as duplicates).
]]
local now = now_ms()
local previous_head = min_score(KEYS[2])
local ids = {}
for i = 3, #ARGV, 3 do ids[#ids + 1] = ARGV[i] end
local leased = redis.call('HMGET', KEYS[1], unpack(ids))
-- A record never replaces another (include/records.lua): an id another record
-- of the queue holds in the jobs hash (or an earlier job of this call) is
-- taken, and that job is dead-lettered under a new id instead.
local taken = redis.call('HMGET', KEYS[3], unpack(ids))
local leased_ids, scored, records, twins, filing = {}, {}, {}, {}, {}
local earliest = nil
for n = 1, #ids do
  if leased[n] and (taken[n] or filing[ids[n]]) then
    leased_ids[#leased_ids + 1] = ids[n]
    twins[#twins + 1] = ARGV[3 + (n - 1) * 3 + 2]
  elseif leased[n] then
    filing[ids[n]] = true
    local i = 3 + (n - 1) * 3
    -- Whole milliseconds, rounded up (never early): retry delays are
    -- seconds long, and integer scores keep a small retry set's listpack
    -- cheap to insert into (fractional scores are stored as text there
    -- and re-parsed on every insert; docs/benchmarks.md). No delay means
    -- due now, so it rounds down: the next promote must find it due.
    local id, delay = ARGV[i], tonumber(ARGV[i + 1]) or 0
    local at = delay > 0 and math.ceil(now + delay) or math.floor(now)
    leased_ids[#leased_ids + 1] = id
    scored[#scored + 1] = at
    scored[#scored + 1] = id
    records[#records + 1] = id
    records[#records + 1] = set_run_at(ARGV[i + 2], at)
    if earliest == nil or at < earliest then earliest = at end
  end
end
if #leased_ids > 0 then
  redis.call('HDEL', KEYS[1], unpack(leased_ids))
  if #scored > 0 then
    redis.call('ZADD', KEYS[2], unpack(scored))
    redis.call('HSET', KEYS[3], unpack(records))
  end
  for _, record in ipairs(twins) do
    bury_duplicate(flow_base(KEYS[2], ':retry'), record, now, 'stored in the queue')
  end
  if KEYS[5] then flow_leave(flow_base(KEYS[5], ':gready'), leased) end
  if ARGV[2] == '1' then
    count_ended(KEYS[4], 'failed', #leased_ids, now)
    if KEYS[6] and redis.call('EXISTS', KEYS[6]) == 1 then
      redis.call('HINCRBY', KEYS[6], 'failed', #leased_ids)
    end
  end
end
if #scored > 0 then
  local base = flow_base(KEYS[2], ':retry')
  local events_cap = observe_caps(base)
  if events_cap then
    local ids, due = {}, {}
    for i = 1, #scored, 2 do
      due[#due + 1] = scored[i]
      ids[#ids + 1] = scored[i + 1]
    end
    emit_events(base, events_cap, ARGV[2] == '1' and 'retrying' or 'snoozed', ids, due)
  end
end
if earliest and (previous_head == nil or earliest < previous_head) then
  redis.call('PUBLISH', ARGV[1], 's')
end
return #leased_ids
