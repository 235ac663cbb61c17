--[[ enqueue_idempotent.lua — enqueue jobs under idempotency keys: at most
one job per key within the key's window, even after that job finished.

A producer that enqueues with JobBuilder::idempotency_key(key, window)
gets one job per key: the first enqueue sets the key's marker
P:{Q}:idem:<sha256 of the key> to `<job id> <content digest>` (the
SHA-1, hex, of the job's type and payload, `<type>\n<payload>`, as
enqueue_with_id.lua's markers hold it; the caller computes it and passes
it) for the window (PX), in the same step as the enqueue. Within the
window, an enqueue that finds the marker writes nothing and answers:

* 'exists' and the original job's id when the content is the same — also
  after that job finished (unlike a unique job's lock, the marker lives
  its whole window);
* 'conflict' and the original job's id when the content differs.

A job whose producer gave its id (JobBuilder::id, 'given') also claims
its id's marker P:{Q}:id:<id> (claim_id in include/new_jobs.lua), so the
id keeps its own guarantee. A generated id (a fresh UUID, 'generated')
cannot be held by another job, so its marker is neither read nor
written (its key is still declared, for a fixed key layout). A new job
is placed as enqueue_with_id.lua places it (place_new_job,
finish_new_jobs), and its tags are indexed in the same step (index_tags,
include/tags.lua). Jobs of one call are handled in order (a later job sees
the markers of earlier ones); every job's arguments are checked before
anything is written.

Only include/lib.lua, keys.lua, records.lua, new_jobs.lua and tags.lua
are prepended (not include/flow.lua). The commonest single enqueue — a plain
job that runs now, with a generated id and no tags — takes the leaner
enqueue_idempotent_ready.lua instead (docs/benchmarks.md).

Called by: store/ops/enqueue_idempotent.rs, when a producer enqueues jobs
with an idempotency key (JobBuilder::idempotency_key): one job
(client/send.rs, over the direct lane when it is free: one that is
prioritised, keyed, scheduled or has a given id) or a batch
(client/bulk.rs through store/enqueue.rs).

KEYS[1]       P:{Q}:ready        list
KEYS[2]       P:{Q}:priority     zset
KEYS[3]       P:{Q}:scheduled    zset  id → run-at ms
KEYS[4]       P:{Q}:jobs         hash  id → record
KEYS[3+2i]    P:{Q}:idem:<sha256> string, job i's idempotency key marker
KEYS[4+2i]    P:{Q}:id:<id>      string, job i's id marker (used for a
              given id only)
ARGV[1]       P:{Q}:events       pub/sub channel
ARGV[2]       the id markers' window, whole ms (≥ 1)
ARGV[…]       six per job: the record; 'now' | 'in' | 'at'; ms; the
              key's window in whole ms (≥ 1); the content digest (40
              lowercase hex digits: SHA-1 of `<type>\n<payload>`);
              'given' | 'generated' (who chose the job's id)

Returns: per job, flattened: status, job id — 'enqueued' (its own id),
         'exists' or 'conflict' (the id of the job holding the key), or
         'exists' / 'taken' for its given id (its own id).
]]
local jobs = (#KEYS - 4) / 2
if jobs < 1 or jobs ~= math.floor(jobs) or #ARGV ~= 2 + 6 * jobs then
  return redis.error_reply('ERR jobqueue: enqueue_idempotent takes two keys and six arguments per job')
end
local window = string.match(ARGV[2], '^%d+$') and tonumber(ARGV[2])
if not window or window < 1 then
  return redis.error_reply('ERR jobqueue: the idempotency window must be a whole number of ms (at least 1)')
end
for i = 1, jobs do
  local a = 3 + 6 * (i - 1)
  local refused = new_job_error(ARGV[a], ARGV[a + 1], ARGV[a + 2], a)
  if refused then return refused end
  if string.sub(KEYS[4 + 2 * i], -36) ~= record_id(ARGV[a]) then
    return redis.error_reply('ERR jobqueue: marker key ' .. (4 + 2 * i) .. ' is not the job id of its record')
  end
  if not string.match(ARGV[a + 3], '^[1-9]%d*$') then
    return redis.error_reply('ERR jobqueue: the key window of argument ' .. a .. ' must be whole ms (at least 1)')
  end
  if #ARGV[a + 4] ~= 40 or string.match(ARGV[a + 4], '[^0-9a-f]') then
    return redis.error_reply('ERR jobqueue: the content digest of argument ' .. a .. ' must be 40 lowercase hex digits')
  end
  if ARGV[a + 5] ~= 'given' and ARGV[a + 5] ~= 'generated' then
    return redis.error_reply('ERR jobqueue: the id of argument ' .. a .. " must be 'given' or 'generated'")
  end
end

local ready_key, priority_key, scheduled_key, jobs_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_ms()
local to_ready, out = {}, {}
-- The scheduled set's head is read only when a job may be scheduled.
local previous_head, head_read, earliest = nil, false, nil
local base = nil -- P:{Q}, for the tag index (include/tags.lua), once a job is placed
for i = 1, jobs do
  local a = 3 + 6 * (i - 1)
  local record, when, ms = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local digest = ARGV[a + 4]
  local idem_key, marker_key = KEYS[3 + 2 * i], KEYS[4 + 2 * i]
  local held = redis.call('GET', idem_key)
  if held then
    local status, original = held_key_answer(held, digest)
    out[#out + 1] = status
    out[#out + 1] = original
  else
    local id = record_id(record)
    local found = nil
    if ARGV[a + 5] == 'given' then
      found = claim_id(marker_key, jobs_key, record, window, digest)
    end
    if found then
      out[#out + 1] = found
    else
      redis.call('SET', idem_key, id .. ' ' .. digest, 'PX', ARGV[a + 3])
      if when ~= 'now' and not head_read then
        previous_head, head_read = min_score(scheduled_key), true
      end
      local at = place_new_job(scheduled_key, jobs_key, record, when, ms, now, to_ready)
      if at and (earliest == nil or at < earliest) then earliest = at end
      base = base or flow_base(jobs_key, ':jobs')
      index_tags(base, record, now)
      out[#out + 1] = 'enqueued'
    end
    out[#out + 1] = id
  end
end
finish_new_jobs(ready_key, priority_key, ARGV[1], to_ready, now, earliest, previous_head)
return out
