--[[ include/records.lua — storing records by id without ever replacing one;
prepended after include/lib.lua to the scripts that lease records into a worker's
active hash or file them in the jobs hash (fetch.lua and every script that
takes include/flow.lua). The plain acknowledgement (ack.lua) does without it.

Job ids are unique within a queue, but nothing stops a producer in another
language from pushing two records with one id (docs/protocol.md, "Job ids
are unique"). Wherever a script stores a record under its id — the worker's
active hash, the jobs hash behind the scheduled, retry, dead, cancelled,
expired and waiting sets and the flow keys' lists — a record arriving under
an id another record already holds must not overwrite it (the first would
be lost, and whichever outcome came second would find nothing). The
newcomer is dead-lettered instead: renamed to a fresh id, with an error
entry "duplicate job id <id>: …" appended to its history, filed in the
dead set and its record in the jobs hash. Both records are kept; an
operator can retry the renamed one, which then runs under its new id.

The dead set, jobs hash and stats of the queue are built from its base
`P:{Q}` (`queue_key`, include/keys.lua, prepended before this file): the keys share the queue's hash tag, so they are in
the slot the script runs on; declaring them would cost every fetch for a
path almost never taken (jobqueue-core/tests/script_keys.rs).

Included by (after include/lib.lua; `lua!(records …)`, `lua!(new_jobs …)`,
`lua!(flow …)`, `lua_batch!(flow …)` and `lua_deps!` in store/scripts.rs):
ack_keyed.lua, ack_parents.lua, batch_cancel.lua, batch_open.lua, bury.lua,
bury_batch.lua, cancel.lua, cron_run_now.lua,
cron_tick.lua, delete_jobs.lua, delete_keyed.lua, enqueue_priority.lua,
enqueue_unique.lua, enqueue_waiting.lua, enqueue_with_id.lua, expire.lua,
fetch.lua, fetch_limited.lua, handback.lua, parent_open.lua, promote.lua,
purge_keyed.lua, purge_memos.lua, reclaim.lua, release_child.lua, requeue.lua, retry.lua,
schedule.lua, ack_steps.lua, signal_wait.lua, enqueue_idempotent.lua.
]]

-- Renamed duplicates so far in this script call (each gets its own id).
local renamed_count = 0

-- A fresh UUID v7 (time `now`, the rest from a hash of the old id, the
-- time and a counter) that no record of the queue holds.
local function fresh_job_id(jobs_key, old_id, now)
  local ms = math.floor(now)
  local time_hex = string.format('%08x%04x', math.floor(ms / 65536), ms % 65536)
  while true do
    renamed_count = renamed_count + 1
    local h = redis.sha1hex(old_id .. '|' .. ms_text(now) .. '|' .. renamed_count)
    local v = tonumber(string.sub(h, 4, 4), 16) % 4 + 1
    local variant = string.sub('89ab', v, v)
    local id = string.sub(time_hex, 1, 8) .. '-' .. string.sub(time_hex, 9, 12) .. '-7' .. string.sub(h, 1, 3)
      .. '-' .. variant .. string.sub(h, 5, 7) .. '-' .. string.sub(h, 8, 19)
    if redis.call('HEXISTS', jobs_key, id) == 0 then return id end
  end
end

-- `record` renamed to `new_id`, with an error entry saying whose id it
-- carried appended to its envelope's history (created when it has none).
local function renamed_duplicate(record, new_id, now, where)
  local old_id = string.gsub(record_id(record), '[^%w%-]', '?')
  local renamed = string.sub(record, 1, 7) .. new_id .. string.sub(record, 44)
  local newline = string.find(renamed, '\n', 45, true)
  if not newline then return renamed end
  local message = 'duplicate job id ' .. old_id .. ': another record with this id was already '
    .. where .. '; this one was kept under a new id and not run'
  local entry = string.format('{"attempt":%d,"at":%d,"kind":"error","message":"%s"}',
    envelope_number(record, ',"attempt":') or 0, math.floor(now), message)
  local s, e = string.find(renamed, ',"errors":[', 45, true)
  if s and s < newline then
    local close = json_array_end(renamed, e)
    if close and close < newline then
      local separator = ','
      if close == e + 1 then separator = '' end
      return string.sub(renamed, 1, close - 1) .. separator .. entry .. string.sub(renamed, close)
    end
  end
  -- No history yet: the envelope's closing brace is just before the newline.
  return string.sub(renamed, 1, newline - 2) .. ',"errors":[' .. entry .. ']' .. string.sub(renamed, newline - 1)
end

-- Dead-letters `record`, whose id another record of the queue at `base`
-- holds, under a fresh id (see the header); `where` says where the other
-- one is, for the error message. Counts it in the queue's `dead` counter.
-- Returns the new id.
local function bury_duplicate(base, record, now, where)
  local jobs_key = queue_key(base, ':jobs')
  local new_id = fresh_job_id(jobs_key, record_id(record), now)
  redis.call('HSET', jobs_key, new_id, renamed_duplicate(record, new_id, now, where))
  redis.call('ZADD', queue_key(base, ':dead'), now, new_id)
  redis.call('HINCRBY', queue_key(base, ':stats'), 'dead', 1)
  return new_id
end

-- Leases `records` (in order) into a worker's active hash (id → record)
-- and returns {0, leased record…}, the fetch reply. Valid records whose id
-- is already leased to this worker (by an earlier fetch, or earlier in
-- this batch) are not leased: they are dead-lettered (bury_duplicate),
-- and the one already leased keeps its place. A malformed record (written
-- by a foreign producer) has meaningless id bytes: it is leased only if
-- its key is free, otherwise it goes back to the end of the ready list
-- and is leased once the other is gone (the worker dead-letters it with
-- the reason). Also returns the dead-lettered records and the malformed
-- ones put back, for callers that account for them (keyed jobs release
-- their keys), and the leased ids in order when nothing was set aside.
--
-- The common case costs one HMGET (nothing held under these ids) and the
-- one HSET that leases the batch, whose reply (fields added) proves no id
-- repeated within it; only a repeat takes the slower path.
local function lease_records(base, active_key, ready_key, records)
  local leased, ids, fields, malformed = {0}, {}, {}, {}
  local n = 0
  for i = 1, #records do
    local record = records[i]
    if is_record(record) then
      n = n + 1
      local id = record_id(record)
      ids[n] = id
      fields[2 * n - 1] = id
      fields[2 * n] = record
    else
      malformed[#malformed + 1] = record
    end
  end
  local twins = {}
  if n > 0 then
    local held = redis.call('HMGET', active_key, unpack(ids))
    local clash = false
    for i = 1, n do
      if held[i] then
        clash = true
        break
      end
    end
    if not clash and redis.call('HSET', active_key, unpack(fields)) == n then
      for i = 1, n do leased[i + 1] = fields[2 * i] end
    else
      -- An id held already, or repeated in the batch (the HSET above then
      -- kept the last record of each: the first is written back here).
      local first, seen = {}, {}
      for i = 1, n do
        local id = ids[i]
        if held[i] or seen[id] then
          twins[#twins + 1] = fields[2 * i]
        else
          seen[id] = true
          first[#first + 1] = id
          first[#first + 1] = fields[2 * i]
          leased[#leased + 1] = fields[2 * i]
        end
      end
      if #first > 0 then
        redis.call('HSET', active_key, unpack(first))
      end
      local now = now_ms()
      for _, record in ipairs(twins) do
        bury_duplicate(base, record, now, 'leased to this worker')
      end
    end
  end
  -- The leased ids in reply order, when they are exactly the valid ids
  -- (no repeat, no malformed record): the event stream reuses them.
  local leased_ids = (#twins == 0 and #malformed == 0 and #leased == n + 1) and ids or nil
  local requeued = {}
  for _, record in ipairs(malformed) do
    if redis.call('HSETNX', active_key, record_id(record), record) == 1 then
      leased[#leased + 1] = record
    else
      redis.call('RPUSH', ready_key, record)
      requeued[#requeued + 1] = record
    end
  end
  return leased, twins, requeued, leased_ids
end

-- Leases up to `want` ready jobs into a worker's active hash: prioritised
-- jobs whose effective ready time is not later than the ready list's head
-- first, the rest from the list head (FIFO). Returns {0, record…}, the
-- fetch reply (fetch.lua and fetch_limited.lua), and the leased ids in
-- order when nothing was set aside (else nil).
local function lease_ready(ready_key, priority_key, active_key, want)
  local picked_all = {}
  if redis.call('ZCARD', priority_key) > 0 then
    local limit = '+inf'
    local head = redis.call('LINDEX', ready_key, 0)
    if head then limit = record_ready_ms(head) end
    local picked = redis.call('ZRANGEBYSCORE', priority_key, '-inf', limit, 'LIMIT', 0, want)
    if #picked > 0 then
      redis.call('ZREM', priority_key, unpack(picked))
      for _, record in ipairs(picked) do picked_all[#picked_all + 1] = record end
    end
  end
  local rest = want - #picked_all
  if rest > 0 then
    local popped = redis.call('LPOP', ready_key, rest)
    if popped then
      for _, record in ipairs(popped) do picked_all[#picked_all + 1] = record end
    end
  end
  if #picked_all == 0 then
    return {0}
  end
  local leased, _, _, leased_ids = lease_records(flow_base(ready_key, ':ready'), active_key, ready_key, picked_all)
  return leased, leased_ids
end

