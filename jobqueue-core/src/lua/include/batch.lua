--[[ include/batch.lua — a batch's counts and callbacks; prepended after
include/lib.lua (and, for the scripts that file or trim records, after
include/records.lua, include/new_jobs.lua and include/flow.lua:
`lua_batch!(flow …)` in
store/scripts.rs) to the scripts that create, fill, seal, cancel or end
the jobs of a batch. It uses only include/lib.lua. Plain jobs never reach
these scripts.

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

Included by: ack_batch.lua, batch_add.lua, batch_cancel.lua, batch_open.lua,
batch_seal.lua, bury_batch.lua, batch_retry_dead.lua, cancel.lua, requeue.lua,
delete_jobs.lua.
]]

-- Enqueues the batch's callback `kind` once; returns 1 when it did now.
local function batch_fire(batch_key, ready_key, kind, now)
  local record = redis.call('HGET', batch_key, 'cb:' .. kind)
  if not record then return 0 end
  if redis.call('HSETNX', batch_key, 'fired:' .. kind, math.floor(now)) == 0 then return 0 end
  redis.call('RPUSH', ready_key, record)
  return 1
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
  else
    fired = batch_fire(batch_key, ready_key, 'complete', now)
  end
  if v[5] ~= 'cancelled' and (tonumber(v[3]) or 0) == 0 and (tonumber(v[6]) or 0) == 0 then
    fired = fired + batch_fire(batch_key, ready_key, 'success', now)
  end
  if v[5] == 'open' then
    redis.call('HSET', batch_key, 'state', 'finished', 'finished', math.floor(now))
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

-- The batch hash named by `record`'s envelope (a key of the queue at
-- `base`, built with queue_key), or nil for a job of no batch.
local function record_batch_key(base, record)
  local s, e = string.find(record, ',"batch":"', 45, true)
  local newline = string.find(record, '\n', 45, true)
  if not s or (newline and s > newline) then return nil end
  return queue_key(base, ':batch:' .. string.sub(record, e + 1, e + 36))
end

-- A job of a batch cancelled on its own (cancel.lua) or deleted by an
-- operator (delete_jobs.lua), which found and removed it, so this runs
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
    if redis.call('HGET', batch_key, 'state') == 'finished' then
      redis.call('HSET', batch_key, 'state', 'open')
    end
    if (tonumber(redis.call('HGET', batch_key, 'holds')) or 0) <= 0 then
      redis.call('PERSIST', batch_key)
    end
  end
end
