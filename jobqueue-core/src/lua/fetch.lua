--[[ fetch.lua — lease up to N ready jobs to one worker.

The worker owns a fetched job while its lease in P:{Q}:leases is alive; the
worker's heartbeat renews the lease, and when it lapses any process moves
the jobs back to ready (reclaim.lua). A job is therefore never only in a
worker's memory: it is in the ready list or in this worker's active hash.

Prioritised jobs whose effective ready time is not later than the ready
list's head go first; the rest of the batch comes from the list head (FIFO).

Called by: store/ops/fetch.rs, from the worker's fetch rounds
(jobqueue-worker/src/loops/fetch_round.rs, driven by loops/fetcher.rs)
and the inline worker (jobqueue-worker/src/inline.rs), for queues without
flow limits or keyed jobs.

KEYS[1]  P:{Q}:ready        list
KEYS[2]  P:{Q}:priority     zset
KEYS[3]  P:{Q}:active:<wid> hash  id → record
KEYS[4]  P:{Q}:leases       zset  wid → lease deadline
KEYS[5]  P:{Q}:paused       string
(only for a record whose id is taken, built from the queue's base:
P:{Q}:dead, P:{Q}:jobs, P:{Q}:stats — see include/records.lua)
ARGV[1]  worker id
ARGV[2]  most jobs to lease (1-1000)

A record never replaces another in the active hash: a valid record whose
id is already leased to this worker (by an earlier fetch, or earlier in
the batch: two records pushed under one id) is dead-lettered under a new
id with a "duplicate job id" error (lease_records in include/records.lua); a
malformed one goes back to the tail of the ready list.

A `started` entry goes to the queue's event stream when it is on
(include/observe.lua).

Returns: {status, record…}; status 0 = ok (zero or more records follow),
         1 = queue paused, 2 = this worker holds no lease (heartbeat first).
]]
if redis.call('EXISTS', KEYS[5]) == 1 then
  return {1}
end
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  return {2}
end
local leased, leased_ids = lease_ready(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[2]))
if #leased > 1 then
  local base = flow_base(KEYS[1], ':ready')
  local events_cap = observe_caps(base)
  if events_cap then emit_events(base, events_cap, 'started', leased_ids or record_ids(leased, 2)) end
end
return leased
