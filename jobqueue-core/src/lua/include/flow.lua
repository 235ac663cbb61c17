--[[ include/flow.lua — helpers for keyed flow control (leases, limits,
releases), for putting leased jobs back (with a tracked job's status), for
filing finished jobs and dropping durable memos, and for recording a
parent's end for its dependents; prepended (after include/lib.lua,
include/records.lua and include/new_jobs.lua, which makes jobs ready) to
the scripts that file, serve or release keyed jobs or jobs with
dependents. Scripts on the plain hot path (fetch.lua, ack.lua) and the
idempotent enqueue (enqueue_idempotent.lua) do without it, so they do not
pay for defining these helpers on every call.

Included by (after include/lib.lua, include/records.lua and
include/new_jobs.lua; `lua!(flow …)`, `lua_batch!(flow …)` and `lua_deps!`
in store/scripts.rs):
ack_keyed.lua, ack_parents.lua, batch_cancel.lua, batch_open.lua, bury.lua,
bury_batch.lua, cancel.lua, cron_run_now.lua,
cron_tick.lua, delete_jobs.lua, delete_keyed.lua, enqueue_priority.lua,
enqueue_unique.lua, enqueue_waiting.lua,
enqueue_with_id.lua, expire.lua, fetch_limited.lua, handback.lua,
parent_open.lua, promote.lua, purge_keyed.lua, purge_memos.lua,
reclaim.lua, release_child.lua, requeue.lua, retry.lua, schedule.lua,
ack_steps.lua, signal_wait.lua.

The key layout of keyed flow control is described at the top of
include/new_jobs.lua.
]]

-- Drops the durable memos of jobs whose records are removed for good
-- (docs/durable-jobs.md, "Limits and costs"): each job's memo
-- P:{Q}:steps:<id> and pending signals P:{Q}:signals:<id>, its per-attempt
-- logs P:{Q}:logs:<id> (docs/search-logs-events.md, "Logs"), and its entries
-- in the sleeping and signal_wait indexes, so a cancelled or deleted job
-- is not counted there. `base` is `P:{Q}` (flow_base). Keys that do not
-- exist cost a lookup each; only the paths that remove records (operator
-- actions, expiry, dead-set trims, successes with dependents) call this.
local function drop_memos(base, ids)
  if #ids == 0 then return end
  for _, id in ipairs(ids) do
    redis.call('DEL', queue_key(base, ':steps:' .. id), queue_key(base, ':signals:' .. id),
      queue_key(base, ':logs:' .. id))
  end
  redis.call('ZREM', queue_key(base, ':sleeping'), unpack(ids))
  redis.call('ZREM', queue_key(base, ':signal_wait'), unpack(ids))
end

-- Files a job that will not run in a bounded set of finished jobs (the
-- cancelled or expired set: id → when, record in the jobs hash) and counts
-- it in the queue's stats under `counter`. Then trims the set: entries
-- older than `max_age` ms, then the oldest above `max_kept`, at most 100
-- per call, so a call stays cheap and the set cannot outgrow its cap.
-- A record whose id another record holds is dead-lettered instead (the
-- job's own record, still in the jobs hash when it was waiting there, is
-- not another).
local function file_finished(set_key, jobs_key, stats_key, counter, id, record, now, max_kept, max_age)
  local held = redis.call('HGET', jobs_key, id)
  if held and held ~= record then
    bury_duplicate(flow_base(jobs_key, ':jobs'), record, now, 'stored in the queue')
    return
  end
  redis.call('HSET', jobs_key, id, record)
  redis.call('ZADD', set_key, now, id)
  redis.call('HINCRBY', stats_key, counter, 1)
  drop_memos(flow_base(jobs_key, ':jobs'), {id})
  local old = redis.call('ZRANGEBYSCORE', set_key, '-inf', '(' .. ms_text(now - max_age), 'LIMIT', 0, 100)
  local excess = redis.call('ZCARD', set_key) - #old - max_kept
  if excess > 0 then
    local oldest = redis.call('ZRANGE', set_key, 0, math.min(excess, 100) - 1)
    for _, gone in ipairs(oldest) do old[#old + 1] = gone end
  end
  if #old > 0 then
    redis.call('ZREM', set_key, unpack(old))
    redis.call('HDEL', jobs_key, unpack(old))
  end
end

-- A job ended in this script (dead, cancelled, a parent that succeeded):
-- frees its uniqueness lock, found from its record, while the lock still
-- names it (a lock taken over by a newer job after expiry or replace is
-- left alone). Callers pass only records of jobs whose end they just
-- recorded — still leased by the caller, or found where it was — so a
-- worker whose lease lapsed never frees the lock of a job that runs again.
-- Returns 1 when a lock was freed.
local function release_unique(base, record)
  local digest = record and envelope_text(record, ',"unique":"')
  if not digest then return 0 end
  local lock_key = queue_key(base, ':unique:' .. digest)
  if redis.call('GET', lock_key) == record_id(record) then
    redis.call('DEL', lock_key)
    return 1
  end
  return 0
end

-- A leased job of `key` left its worker (finished, failed, cancelled,
-- expired, handed back, reclaimed): one fewer running, and the key is
-- ready again if jobs wait. Returns 1 when the key became ready.
local function flow_release(base, key, now)
  if redis.call('HINCRBY', queue_key(base, ':grun'), key, -1) <= 0 then
    redis.call('HDEL', queue_key(base, ':grun'), key)
  end
  if redis.call('EXISTS', queue_key(base, ':g:' .. key)) == 1 then
    return redis.call('ZADD', queue_key(base, ':gready'), 'NX', ms_text(now), key)
  end
  return 0
end

-- `n` keyed jobs left their keys' lists (leased, cancelled, deleted).
local function flow_taken(base, n)
  if n > 0 and redis.call('DECRBY', queue_key(base, ':gwaiting'), n) <= 0 then
    redis.call('DEL', queue_key(base, ':gwaiting'))
  end
end

-- Drops a key from the ready keys when no job of it waits any more (a
-- waiting job was cancelled or deleted).
local function flow_forget_if_idle(base, key)
  if redis.call('EXISTS', queue_key(base, ':g:' .. key)) == 0 then
    redis.call('ZREM', queue_key(base, ':gready'), key)
  end
end

-- Releases the keys of leased records that left their worker (false
-- entries, as HMGET returns for missing ones, are skipped) and wakes idle
-- workers when a key became ready.
local function flow_leave(base, records)
  local now, woke = nil, 0
  for _, record in ipairs(records) do
    local key = record and record_flow(record)
    if key then
      now = now or now_ms()
      woke = woke + flow_release(base, key, now)
    end
  end
  if woke > 0 then redis.call('PUBLISH', base .. ':events', 'r') end
end

-- How long a waiting or running job's status is kept after its last
-- transition (client/status.rs PENDING_STATUS_TTL: 7 days).
local PENDING_STATUS_TTL_MS = 604800000

-- A tracked job handed back or reclaimed is queued again: its status says
-- so, and any progress it shows is from the interrupted run (`stale`).
local function status_requeued(base, record, now)
  local status_key = queue_key(base, ':status:' .. record_id(record))
  redis.call('HSET', status_key, 'state', 'queued', 'stale', '1',
    'updated_at', string.format('%d', math.floor(now)))
  redis.call('PEXPIRE', status_key, PENDING_STATUS_TTL_MS)
end

-- Puts leased records back in the queue (handback, reclaim): plain ones at
-- the head of the ready list, oldest first; keyed ones at the head of
-- their key's list, their key released. `records` must be sorted oldest
-- first. A tracked job's status becomes queued
-- (stale progress). Returns nothing.
local function return_leased(ready_key, records)
  local base = flow_base(ready_key, ':ready')
  local pushed, now, woke = {}, nil, 0
  for i = #records, 1, -1 do
    if record_tracked(records[i]) then
      now = now or now_ms()
      status_requeued(base, records[i], now)
    end
    local key = record_flow(records[i])
    if key then
      now = now or now_ms()
      flow_release(base, key, now)
      woke = woke + flow_push(base, key, records[i], now, true)
    else
      pushed[#pushed + 1] = records[i]
    end
  end
  if #pushed > 0 then redis.call('LPUSH', ready_key, unpack(pushed)) end
  if woke > 0 then redis.call('PUBLISH', base .. ':events', 'r') end
end

-- A token bucket (hash tokens, at) of `limit` tokens refilled over
-- `per_ms`: the tokens available now.
local function bucket_tokens(bucket_key, limit, per_ms, now)
  local bucket = redis.call('HMGET', bucket_key, 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or limit
  local at = tonumber(bucket[2]) or now
  return math.min(limit, tokens + math.max(0, now - at) * limit / per_ms)
end

-- Stores a bucket's tokens as of `now`; it expires once it would be full.
local function bucket_store(bucket_key, tokens, now, per_ms)
  redis.call('HSET', bucket_key, 'tokens', tostring(tokens), 'at', ms_text(now))
  redis.call('PEXPIRE', bucket_key, math.max(math.ceil(per_ms * 2), 1000))
end

-- Milliseconds until a bucket holding `tokens` has one.
local function bucket_wait(tokens, limit, per_ms)
  return math.max(1, math.ceil((1 - tokens) * per_ms / limit))
end

-- A strict (sliding-window) rate limit: `window_key` (zset "<id>@<ms>" →
-- lease time) holds the starts of the last `per_ms`. Drops the starts that
-- left the window; returns the starts still allowed now and, when none is,
-- the ms until the oldest leaves it. At most `limit` starts in ANY window
-- of `per_ms`: a lease at `now` counts the leases in (now - span, now],
-- where the span is `per_ms` plus a guard of 1/20 of it (at most 10 ms),
-- so a job that starts a few ms after its lease (a busy worker, the
-- reply's way back) cannot push its start into the next window.
local function window_span(per_ms)
  return per_ms + math.min(10, per_ms / 20)
end

local function window_room(window_key, limit, per_ms, now)
  local span = window_span(per_ms)
  redis.call('ZREMRANGEBYSCORE', window_key, '-inf', ms_text(now - span))
  local room = limit - redis.call('ZCARD', window_key)
  if room > 0 then return room, 0 end
  local oldest = redis.call('ZRANGE', window_key, 0, 0, 'WITHSCORES')
  return 0, math.max(1, math.ceil(tonumber(oldest[2]) + span - now))
end

-- Records the starts of job `ids` at `now` in a strict window; it expires
-- once every start has left it.
local function window_add(window_key, ids, now, per_ms)
  local at, args = ms_text(now), {}
  for _, id in ipairs(ids) do
    args[#args + 1] = at
    args[#args + 1] = id .. '@' .. at
  end
  redis.call('ZADD', window_key, unpack(args))
  redis.call('PEXPIRE', window_key, math.ceil(window_span(per_ms)) + 1000)
end

-- How long dependency records (a parent's state and children, a released
-- job's resolved parents) live after their last change: 30 days.
local DEPENDENCY_TTL_MS = 30 * 24 * 3600 * 1000

-- A job enqueued with dependents has ended (`outcome`: 'succeeded' or
-- 'failed'): records it in its parent hash and, when it has children,
-- files `<id>|<outcome>` in the queue's release outbox, in the same step
-- as the outcome itself (ack_parents.lua, bury.lua, cancel.lua,
-- expire.lua). Returns true when an outbox entry was filed.
local function resolve_parent(parent_key, outbox_key, id, outcome, now)
  if redis.call('EXISTS', parent_key) == 0 then return false end
  redis.call('HSET', parent_key, 'state', outcome)
  redis.call('PEXPIRE', parent_key, DEPENDENCY_TTL_MS)
  if redis.call('HLEN', parent_key) > 1 then
    redis.call('ZADD', outbox_key, now, id .. '|' .. outcome)
    return true
  end
  return false
end

-- An operator deleted job `id` (delete_jobs.lua, delete_keyed.lua): if it
-- was enqueued with dependents and had not ended, it never will, so it is
-- recorded as failed for them. Returns true when an outbox entry was filed.
local function record_deleted_parent(parent_key, outbox_key, id, now)
  if redis.call('HGET', parent_key, 'state') ~= 'pending' then return false end
  return resolve_parent(parent_key, outbox_key, id, 'failed', now)
end

-- Files the final records of the jobs this worker still holds in the dead
-- set (bury.lua, bury_batch.lua). `argv` holds triples from index `first`:
-- id as leased, id in the dead set, final record. Each leased job leaves
-- the active hash, its record goes to the jobs hash and its dead id to the
-- dead set (scored `now`); a dead id another record holds is dead-lettered
-- under a new id (bury_duplicate); a unique job's lock is freed
-- (release_unique in include/flow.lua). Returns the HMGET of the leased
-- ids (a record or false per triple), those ids, how many left and how
-- many of those were twins (bury_duplicate counted them as dead).
local function bury_leased(active_key, dead_key, jobs_key, argv, first, now)
  local leased_ids = {}
  for i = first, #argv, 3 do leased_ids[#leased_ids + 1] = argv[i] end
  if #leased_ids == 0 then return {}, leased_ids, 0, 0 end
  local leased = redis.call('HMGET', active_key, unpack(leased_ids))
  local gone, scored, records, twins = {}, {}, {}, {}
  -- A record never replaces another: a dead id another record of the
  -- queue holds (or an earlier job of this call) is taken.
  local dead_ids = {}
  for n = 1, #leased_ids do
    if leased[n] then dead_ids[#dead_ids + 1] = argv[first + (n - 1) * 3 + 1] end
  end
  local taken = #dead_ids > 0 and redis.call('HMGET', jobs_key, unpack(dead_ids)) or {}
  local k, filing = 0, {}
  for n = 1, #leased_ids do
    if leased[n] then
      local i = first + (n - 1) * 3
      k = k + 1
      gone[#gone + 1] = argv[i]
      if taken[k] or filing[argv[i + 1]] then
        twins[#twins + 1] = argv[i + 2]
      else
        filing[argv[i + 1]] = true
        scored[#scored + 1] = now
        scored[#scored + 1] = argv[i + 1]
        records[#records + 1] = argv[i + 1]
        records[#records + 1] = argv[i + 2]
      end
    end
  end
  if #gone > 0 then
    redis.call('HDEL', active_key, unpack(gone))
    if #scored > 0 then
      redis.call('ZADD', dead_key, unpack(scored))
      redis.call('HSET', jobs_key, unpack(records))
    end
    local base = flow_base(dead_key, ':dead')
    for _, record in ipairs(twins) do
      bury_duplicate(base, record, now, 'stored in the queue')
    end
    for n = 1, #leased_ids do
      if leased[n] then release_unique(base, leased[n]) end
    end
  end
  return leased, leased_ids, #gone, #twins
end

-- The batch hash named by `record`'s envelope (a key of the queue at
-- `base`, built with queue_key), or nil for a job of no batch (here, not
-- in include/batch.lua, for the dead-set trim of count_buried below; the
-- batch scripts that call it take this file too).
local function record_batch_key(base, record)
  local s, e = string.find(record, ',"batch":"', 45, true)
  local newline = string.find(record, '\n', 45, true)
  if not s or (newline and s > newline) then return nil end
  return queue_key(base, ':batch:' .. string.sub(record, e + 1, e + 36))
end

-- After bury_leased: trims the dead set (entries older than `max_age`,
-- then the oldest above `max_jobs`, at most max(100, 2 × buried) per
-- call, counted in `dead_trimmed`) and counts the buried jobs as `dead`
-- and `failed`. Returns how many were trimmed.
local function count_buried(dead_key, jobs_key, stats_key, buried, twins, max_jobs, max_age, now)
  local budget = math.max(100, 2 * buried)
  local trimmed = 0
  local base = flow_base(jobs_key, ':jobs')
  local function remove(ids)
    if #ids > 0 then
      -- a trimmed job of a batch can no longer be retried: its batch
      -- forgets it (`dead:<id>`, kept for retry-dead; still counted dead),
      -- so those fields are bounded by the dead set
      for i, record in ipairs(redis.call('HMGET', jobs_key, unpack(ids))) do
        local batch_key = record and record_batch_key(base, record)
        if batch_key then redis.call('HDEL', batch_key, 'dead:' .. ids[i]) end
      end
      redis.call('ZREM', dead_key, unpack(ids))
      redis.call('HDEL', jobs_key, unpack(ids))
      drop_memos(flow_base(jobs_key, ':jobs'), ids)
      trimmed = trimmed + #ids
    end
  end
  remove(redis.call('ZRANGEBYSCORE', dead_key, '-inf', '(' .. ms_text(now - max_age), 'LIMIT', 0, budget))
  local excess = redis.call('ZCARD', dead_key) - max_jobs
  if excess > 0 and budget - trimmed > 0 then
    remove(redis.call('ZRANGE', dead_key, 0, math.min(excess, budget - trimmed) - 1))
  end
  if buried - twins > 0 then
    redis.call('HINCRBY', stats_key, 'dead', buried - twins)
  end
  if buried > 0 then
    count_ended(stats_key, 'failed', buried, now)
  end
  if trimmed > 0 then
    redis.call('HINCRBY', stats_key, 'dead_trimmed', trimmed)
  end
  return trimmed
end

