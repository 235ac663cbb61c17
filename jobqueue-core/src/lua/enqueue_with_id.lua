--[[ enqueue_with_id.lua — enqueue jobs under ids their producer chose, each
at most once.

A producer that gives a job its id (JobBuilder::id) may retry an enqueue
whose outcome it does not know — a response timeout, a connection dropped
mid-request, a failover — without enqueueing the job twice. The first
enqueue of an id claims the job's idempotency marker P:{Q}:id:<id>, which
holds a digest of the job's type and payload for the idempotency window
(its TTL), in the same step as the enqueue itself. An enqueue that finds
the marker writes nothing and answers:

* 'exists' when the job has the same type and payload: a retry whose
  first attempt was applied (or a second send of the same job);
* 'taken' when it differs: the id belongs to another job, and the caller
  reports a duplicate id.

Once the marker has lapsed, a job still stored under the id in the jobs
hash (scheduled, retrying, dead, cancelled, expired, waiting for parents,
keyed) answers the same way, and the marker is claimed again for it: a
record never replaces another (include/records.lua).

A new job is placed as every enqueue places it: ready now (the ready
list, the priority set or its flow key's list: make_ready_all) or
scheduled (its id in the scheduled set, its record with its run_at in the
jobs hash). Its wake-up is published in the same step, so it cannot be
lost with the reply. Jobs of one call are handled in order (a later job
sees the markers of earlier ones); every job's arguments are checked
before anything is written.

Called by: store/ops/enqueue_with_id.rs, when a producer enqueues jobs
whose ids it gave (JobBuilder::id): one job (client/send.rs) or a batch
(client/bulk.rs through store/enqueue.rs, up to 200 jobs per call).

KEYS[1]    P:{Q}:ready     list
KEYS[2]    P:{Q}:priority  zset
KEYS[3]    P:{Q}:scheduled zset  id → run-at ms
KEYS[4]    P:{Q}:jobs      hash  id → record
KEYS[4+i]  P:{Q}:id:<id>   string, job i's idempotency marker: digest of
           its type and payload (PX the window)
ARGV[1]    P:{Q}:events    pub/sub channel
ARGV[2]    the idempotency window, whole ms (≥ 1)
ARGV[…]    three per job: the record, 'now' | 'in' | 'at', ms (delay, or
           instant since the epoch; ignored for 'now')
Also writes (from KEYS[4]'s base): P:{Q}:tag:<tag> zset, the tag index of
the tagged jobs it enqueues (include/tags.lua).

Returns: per job, flattened: status, job id — status 'enqueued', 'exists'
         or 'taken'.
]]
local jobs = #KEYS - 4
if jobs < 1 or #ARGV ~= 2 + 3 * jobs then
  return redis.error_reply('ERR jobqueue: enqueue_with_id takes three arguments per marker key')
end
local window = string.match(ARGV[2], '^%d+$') and tonumber(ARGV[2])
if not window or window < 1 then
  return redis.error_reply('ERR jobqueue: the idempotency window must be a whole number of ms (at least 1)')
end
for i = 1, jobs do
  local a = 3 + 3 * (i - 1)
  local refused = new_job_error(ARGV[a], ARGV[a + 1], ARGV[a + 2], a)
  if refused then return refused end
  if string.sub(KEYS[4 + i], -36) ~= record_id(ARGV[a]) then
    return redis.error_reply('ERR jobqueue: marker key ' .. (4 + i) .. ' is not the job id of its record')
  end
end

local ready_key, priority_key, scheduled_key, jobs_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_ms()
local base = flow_base(jobs_key, ':jobs')
local to_ready, out = {}, {}
local previous_head, earliest = min_score(scheduled_key), nil
for i = 1, jobs do
  local a = 3 + 3 * (i - 1)
  local record, when, ms = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local id = record_id(record)
  local found = claim_id(KEYS[4 + i], jobs_key, record, window)
  if found then
    out[#out + 1] = found
  else
    local at = place_new_job(scheduled_key, jobs_key, record, when, ms, now, to_ready)
    index_tags(base, record, now)
    if at and (earliest == nil or at < earliest) then earliest = at end
    out[#out + 1] = 'enqueued'
  end
  out[#out + 1] = id
end
finish_new_jobs(ready_key, priority_key, ARGV[1], to_ready, now, earliest, previous_head)
return out
