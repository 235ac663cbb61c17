--[[ include/batch.lua — a batch's counts and callbacks; prepended after
include/lib.lua (and, for the scripts that file or trim records, after
include/records.lua, include/new_jobs.lua and include/flow.lua:
`lua_batch!(flow …)` in
store/scripts.rs) to the scripts that create, fill, seal, cancel or end
the jobs of a batch. It uses include/lib.lua and include/keys.lua
(prepended to every batch script). Plain jobs never reach these scripts.

A batch is the hash `P:{Q}:batch:<bid>` on its home queue Q (its jobs and
its callbacks are on Q, so every update is in Q's slot). Its counts are
changed only by the script that records a job's end, in the same step as
the HDEL from the worker's active hash that proves this worker still held
the job (exactly once per job end, by the lease). `pending` counts the
jobs not yet ended (a running job is pending, so the jobs it adds keep
the batch open); `holds` counts producers still adding chunks (1 from
creation until `seal`). The batch is complete when both are 0.

Callbacks are job records stored in the hash at creation (`cb:success`,
`cb:complete`, `cb:death`). The script that brings the batch to its
condition pushes the record to Q's ready list and sets `fired:<kind>` (ms)
with HSETNX in the same atomic step: whichever of two concurrent endings
runs second sees the field set and pushes nothing. So each callback is
enqueued exactly once.

A cancelled batch (batch_cancel.lua) enqueues no callback: when its
last job ends it only starts its retention clock.

Nested batches. A child batch (field `parent` = `<parent queue>|<parent
id>`, written by batch_open.lua) counts as one job of its parent, which
may live on another queue (another slot): the child never writes the
parent. Each change of the child's outcome as its parent sees it — ended
(`succeeded`, `dead` or `cancelled`) or open again (`pending`, after a
retry of its dead jobs) — is filed in the same step as the change, as an
entry `b|<child id>|<outcome>|<generation>` in the child queue's release
outbox `P:{Q}:releases` (batch_tell_parent). The generation grows by one
per entry (`told_gen`), `told` keeps the last outcome filed. Whoever
applies the entry (store/releases.rs: the worker's reaper sweep) calls
batch_child_update.lua on the parent's queue, which applies an entry only
if its generation is newer than the one it saw (so repeats and late
duplicates count nothing) and only then removes it from the outbox.

Included by: ack_batch.lua, batch_add.lua, batch_cancel.lua, batch_open.lua,
batch_seal.lua, bury_batch.lua, batch_retry_dead.lua, cancel.lua, requeue.lua,
delete_jobs.lua, purge.lua, batch_link_child.lua, batch_child_update.lua,
batch_expire_held.lua.
]]

-- Enqueues the batch's callback `kind` once; returns 1 when it did now.
local function batch_fire(batch_key, ready_key, kind, now)
  local record = redis.call('HGET', batch_key, 'cb:' .. kind)
  if not record then return 0 end
  if redis.call('HSETNX', batch_key, 'fired:' .. kind, math.floor(now)) == 0 then return 0 end
  redis.call('RPUSH', ready_key, record)
  return 1
end

-- The outbox entries this script call filed (batch_tell_parent), for the
-- scripts that return them so their caller applies them at once
-- (ack_batch.lua, bury_batch.lua); the others leave them to the sweep.
local batch_told = {}

-- The base `P:{Q}` of a batch hash `P:{Q}:batch:<36-char id>`.
local function batch_base(batch_key)
  return string.sub(batch_key, 1, #batch_key - 43)
end

-- While a producer holds the batch (`holds` > 0), an add (of jobs, or of a
-- child batch) renews its open timeout `open_timeout_ms`: the hash's TTL,
-- or, for a child batch (`parent` set), its deadline in P:{Q}:batches_held.
local function batch_renew_hold(batch_key, holds, open_timeout_ms, parent)
  if (tonumber(holds) or 0) <= 0 or not open_timeout_ms then return end
  if parent then
    local deadline = math.floor(now_ms()) + tonumber(open_timeout_ms)
    local base = batch_base(batch_key)
    redis.call('ZADD', queue_key(base, ':batches_held'), 'XX', deadline, string.sub(batch_key, -36))
  else
    redis.call('PEXPIRE', batch_key, open_timeout_ms)
  end
end

-- A child batch files its outcome as its parent sees it (`succeeded`,
-- `dead`, `cancelled` or `pending`) in its queue's release outbox, once
-- per change (see the header). A batch with no parent files nothing.
local function batch_tell_parent(batch_key, outcome, now)
  local v = redis.call('HMGET', batch_key, 'parent', 'told')
  if not v[1] or v[2] == outcome then return end
  local generation = redis.call('HINCRBY', batch_key, 'told_gen', 1)
  redis.call('HSET', batch_key, 'told', outcome)
  local entry = 'b|' .. string.sub(batch_key, -36) .. '|' .. outcome .. '|' .. generation
  local base = batch_base(batch_key)
  redis.call('ZADD', queue_key(base, ':releases'), math.floor(now), entry)
  batch_told[#batch_told + 1] = entry
end

-- A finished batch counts jobs pending again (dead jobs retried): it is
-- open again, its retention clock stops while no producer holds it, and
-- a child batch tells its parent its unit is pending again. A cancelled
-- batch stays cancelled (it fires nothing and its parent keeps it
-- cancelled).
local function batch_reopen(batch_key, now)
  if redis.call('HGET', batch_key, 'state') == 'finished' then
    redis.call('HSET', batch_key, 'state', 'open')
    batch_tell_parent(batch_key, 'pending', now)
  end
  if (tonumber(redis.call('HGET', batch_key, 'holds')) or 0) <= 0 then
    redis.call('PERSIST', batch_key)
  end
end

-- When no job is pending and no producer holds the batch: on_complete
-- (first time only), on_success when every job succeeded: none is dead
-- (possibly later, after dead jobs were retried and succeeded) and none was
-- cancelled, deleted or expired (counted `cancelled`); a cancelled batch
-- fires neither. Then the retention clock starts.
-- Returns how many callbacks were enqueued.
local function batch_settle(batch_key, ready_key, now)
  local v = redis.call('HMGET', batch_key, 'pending', 'holds', 'dead', 'retention_ms', 'state', 'cancelled')
  if (tonumber(v[1]) or 0) > 0 or (tonumber(v[2]) or 0) > 0 then return 0 end
  local fired = 0
  if v[5] == 'cancelled' then
    redis.call('HSETNX', batch_key, 'finished', math.floor(now))
    -- a child that had ended before it was cancelled keeps that outcome
    if redis.call('HGET', batch_key, 'told') == 'pending' then
      batch_tell_parent(batch_key, 'cancelled', now)
    end
  else
    fired = batch_fire(batch_key, ready_key, 'complete', now)
  end
  if v[5] ~= 'cancelled' and (tonumber(v[3]) or 0) == 0 and (tonumber(v[6]) or 0) == 0 then
    fired = fired + batch_fire(batch_key, ready_key, 'success', now)
  end
  if v[5] == 'open' then
    redis.call('HSET', batch_key, 'state', 'finished', 'finished', math.floor(now))
    local outcome = 'succeeded'
    if (tonumber(v[3]) or 0) > 0 then
      outcome = 'dead'
    elseif (tonumber(v[6]) or 0) > 0 then
      outcome = 'cancelled'
    end
    batch_tell_parent(batch_key, outcome, now)
  end
  redis.call('PEXPIRE', batch_key, tonumber(v[4]) or 86400000)
  return fired
end

-- Counts `n` jobs of the batch that just ended as `field` ('succeeded' or
-- 'dead'), fires on_death at the first death, and settles the batch.
-- A batch whose hash is gone (deleted by an operator) is not recreated.
-- Returns how many callbacks were enqueued.
local function batch_ended(batch_key, ready_key, field, n, now)
  if n <= 0 or redis.call('EXISTS', batch_key) == 0 then return 0 end
  redis.call('HINCRBY', batch_key, field, n)
  redis.call('HINCRBY', batch_key, 'pending', -n)
  local fired = 0
  if field == 'dead' then fired = batch_fire(batch_key, ready_key, 'death', now) end
  return fired + batch_settle(batch_key, ready_key, now)
end

-- True when `record`'s envelope names the batch: `member` is
-- `,"batch":"<bid>"` (searched in the envelope only, like envelope_number).
local function record_in_batch(record, member)
  local s = string.find(record, member, 45, true)
  if not s then return false end
  local newline = string.find(record, '\n', 45, true)
  return not newline or s < newline
end


-- A job of a batch cancelled on its own (cancel.lua), deleted by an
-- operator (delete_jobs.lua) or purged with its ready list (purge.lua),
-- which found and removed it, so this runs
-- once per job (a record of no batch changes nothing): counted `cancelled`, no longer
-- pending, and the batch settles (its callbacks fire if it was the last
-- pending job; idle workers are woken through `events`).
local function batch_job_cancelled(base, record, now, events)
  local batch_key = record_batch_key(base, record)
  if not batch_key or redis.call('EXISTS', batch_key) == 0 then return end
  redis.call('HINCRBY', batch_key, 'cancelled', 1)
  redis.call('HINCRBY', batch_key, 'pending', -1)
  if batch_settle(batch_key, queue_key(base, ':ready'), now) > 0 then
    redis.call('PUBLISH', events, 'r')
  end
end

-- A dead job an operator retried one by one (requeue.lua, from the dead
-- set): if its envelope names a batch that still remembers it dead
-- (`dead:<id>`, written by bury_batch.lua; the HDEL makes this count
-- once), the batch counts it pending again and a finished batch is open
-- again (a cancelled one stays cancelled: it fires no callback), as
-- batch_retry_dead.lua does for all of them. `base` is `P:{Q}`; the batch
-- hash is a key of the same queue (queue_key, include/records.lua).
local function batch_revived(base, record)
  local batch_key = record_batch_key(base, record)
  if batch_key and redis.call('HDEL', batch_key, 'dead:' .. record_id(record)) == 1 then
    redis.call('HINCRBY', batch_key, 'dead', -1)
    redis.call('HINCRBY', batch_key, 'pending', 1)
    batch_reopen(batch_key, now_ms())
  end
end
