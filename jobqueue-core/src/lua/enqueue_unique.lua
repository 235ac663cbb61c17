--[[ enqueue_unique.lua — enqueue unique jobs: at most one per uniqueness key.

A lock `P:{Q}:unique:<digest>` holds the id of the job that owns the key,
always with a TTL (the job's unique-for), so a lock can never outlive it.
The script that records the job's end frees it (ack.lua, bury.lua, …;
release_unique in include/flow.lua). If no job holds the key, the new job takes the lock and is enqueued
(ready, prioritised or scheduled as requested). If one does, the mode
decides:

* reject:   nothing is written; the holder's id is returned.
* replace:  a holder still waiting (scheduled, or waiting for a retry) is
            deleted (a dead parent to its dependents, if it has any) and
            the new job takes its place and the lock. A holder
            already ready or running cannot be recalled: the new job is
            enqueued as well and takes the lock.
* debounce: a holder still scheduled keeps its id and payload, and its
            run-at moves to the new job's (never earlier); the lock's TTL
            restarts. Otherwise as replace.

One call takes a batch of jobs for one queue, in order: a later job of the
batch sees the locks taken by earlier ones. Every job's arguments are
checked before anything is written, so a bad one fails the whole call and
writes nothing.

Called by: store/ops/enqueue_unique.rs, when a producer enqueues jobs
with `unique_for`: one job (client/send.rs) or a batch (client/bulk.rs
through store/enqueue.rs, up to 200 jobs per call).

KEYS[1]    P:{Q}:scheduled zset
KEYS[2]    P:{Q}:retry     zset
KEYS[3]    P:{Q}:jobs      hash
KEYS[4]    P:{Q}:ready     list
KEYS[5]    P:{Q}:priority  zset
KEYS[5+i]  P:{Q}:unique:<digest> string, job i's lock (holder id, PX TTL)
(also writes P:{Q}:tag:<tag> zset from KEYS[3]'s base: the tag index of the
jobs it enqueues, include/tags.lua)
ARGV[1]    P:{Q}:events    pub/sub channel
ARGV[…]    five per job: 'reject' | 'replace' | 'debounce', lock TTL in ms
           (> 0), the record, 'now' | 'in' | 'at', ms (delay, or instant
           since the epoch; ignored for 'now')

Returns: per job, flattened: status, job id, replaced id or '' — status is
         'enqueued', 'duplicate' (reject), 'debounced' (the holder's id) or
         'replaced'.
]]
local jobs = #KEYS - 5
if #ARGV ~= 1 + 5 * jobs then
  return redis.error_reply('ERR jobqueue: enqueue_unique takes five arguments per lock key')
end
-- Every job's arguments are checked before anything is written: Redis
-- does not undo a script's earlier writes when a later command fails.
local MODES = {reject = true, replace = true, debounce = true}
local WHEN = {now = true, ['in'] = true, at = true}
local MAX_TTL_MS = 2 ^ 53
for i = 1, jobs do
  local a = 1 + 5 * (i - 1)
  -- Whole numbers in plain digits only (tonumber would take '1e3' or
  -- '0x10', which SET … PX refuses after earlier jobs were written).
  local ttl = string.match(ARGV[a + 2], '^%d+$') and tonumber(ARGV[a + 2])
  local ms = string.match(ARGV[a + 5], '^%-?%d+$') and tonumber(ARGV[a + 5])
  if not MODES[ARGV[a + 1]] or not WHEN[ARGV[a + 4]] then
    return redis.error_reply('ERR jobqueue: unknown unique mode or schedule kind')
  end
  if not ttl or ttl < 1 or ttl > MAX_TTL_MS or ttl ~= math.floor(ttl) then
    return redis.error_reply('ERR jobqueue: the lock TTL must be a whole number of ms from 1 to 2^53')
  end
  if not ms or math.abs(ms) > MAX_TTL_MS then
    return redis.error_reply('ERR jobqueue: the schedule time is not a number of ms')
  end
  if not is_record(ARGV[a + 3]) then
    return redis.error_reply('ERR jobqueue: the argument is not a job record')
  end
end
local scheduled_key, retry_key, jobs_key, ready_key, priority_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = now_ms()
local wake_scheduled = false
-- Records to make ready, in order, with one push at the end (no job of
-- the batch looks at the ready list, so deferring the push is safe).
local to_ready = {}
local out = {}

local function note_scheduled_head(previous_head, new_at)
  if previous_head == nil or new_at < previous_head then
    wake_scheduled = true
  end
end

-- Enqueues one job; returns its status, id and replaced id.
local function enqueue_one(lock_key, mode, ttl, record, when, ms)
  local at = now
  if when == 'in' then at = now + tonumber(ms) end
  if when == 'at' then at = tonumber(ms) end
  local id = record_id(record)
  -- Takes a free key in the same command that reads the holder (Redis 7).
  local holder = redis.call('SET', lock_key, id, 'NX', 'PX', ttl, 'GET')
  local replaced = ''
  if holder then
    if mode == 'reject' then
      return 'duplicate', holder, ''
    end
    local scheduled_at = redis.call('ZSCORE', scheduled_key, holder)
    if mode == 'debounce' and scheduled_at then
      local previous_head = min_score(scheduled_key)
      local new_at = math.max(tonumber(scheduled_at), at)
      redis.call('ZADD', scheduled_key, new_at, holder)
      local held = redis.call('HGET', jobs_key, holder)
      if held then
        redis.call('HSET', jobs_key, holder, set_run_at(held, new_at))
      end
      redis.call('PEXPIRE', lock_key, ttl)
      note_scheduled_head(previous_head, new_at)
      return 'debounced', holder, ''
    end
    for _, set_key in ipairs({scheduled_key, retry_key}) do
      if redis.call('ZREM', set_key, holder) == 1 then
        redis.call('HDEL', jobs_key, holder)
        replaced = holder
        -- A replaced holder never runs: if it has dependents, it is a dead
        -- parent to them (the workers' sweeper applies the outbox entry).
        local base = flow_base(jobs_key, ':jobs')
        record_deleted_parent(queue_key(base, ':parent:' .. holder), queue_key(base, ':releases'), holder, now)
      end
    end
  end
  if holder then
    redis.call('SET', lock_key, id, 'PX', ttl)
  end
  if at > now then
    local previous_head = min_score(scheduled_key)
    redis.call('ZADD', scheduled_key, at, id)
    redis.call('HSET', jobs_key, id, set_run_at(record, at))
    note_scheduled_head(previous_head, at)
  else
    to_ready[#to_ready + 1] = record
  end
  index_tags(flow_base(jobs_key, ':jobs'), record, now)
  if holder then
    return 'replaced', id, replaced
  end
  return 'enqueued', id, ''
end

for i = 1, jobs do
  local a = 1 + 5 * (i - 1)
  local status, id, replaced = enqueue_one(KEYS[5 + i], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5])
  out[#out + 1] = status
  out[#out + 1] = id
  out[#out + 1] = replaced
end
if #to_ready > 0 then
  local was_idle = redis.call('LLEN', ready_key) == 0 and redis.call('ZCARD', priority_key) == 0
  make_ready_all(ready_key, priority_key, to_ready, now)
  if was_idle then redis.call('PUBLISH', ARGV[1], 'r') end
end
if wake_scheduled then redis.call('PUBLISH', ARGV[1], 's') end
return out
