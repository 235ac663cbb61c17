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

A `dead` entry goes to the queue's event stream, and the jobs' history
entries to its history, when they are on (include/observe.lua).

Returns: {buried, trimmed, outbox entries filed…}

The filing, trimming and counting are bury_leased and count_buried in
include/flow.lua, shared with bury_batch.lua.
]]
local now = now_ms()
local max_jobs, max_age = tonumber(ARGV[1]), tonumber(ARGV[2])
local leased, leased_ids, buried, twins = bury_leased(KEYS[1], KEYS[2], KEYS[3], ARGV, 3, now)
if buried > 0 and KEYS[5] then flow_leave(flow_base(KEYS[5], ':gready'), leased) end
local trimmed = count_buried(KEYS[2], KEYS[3], KEYS[4], buried, twins, max_jobs, max_age, now)
observe_buried(flow_base(KEYS[2], ':dead'), leased, leased_ids, ARGV, 3, now)
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
