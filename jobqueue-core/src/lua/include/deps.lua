--[[ include/deps.lua — helpers of the scripts that move jobs waiting for
parents (enqueue_waiting.lua, release_child.lua); prepended after include/lib.lua
and include/new_jobs.lua and include/flow.lua (a released job may be keyed:
make_ready_all, in include/new_jobs.lua, files it in its key's list).

Both scripts take the same keys, in this order:

KEYS[1]  P:{Q}:waiting   zset  id → enqueued-at ms (jobs waiting for parents)
KEYS[2]  P:{Q}:jobs      hash  id → record
KEYS[3]  P:{Q}:deps:<id> hash  the job's dependency state:
           need     parents it waits for
           policy   dead_letter | run | wait | skip | edges (each parent's
                    own policy in its e:<parent id> field)
           dest     now | in | at  (where it goes when released), ms
           ok, bad  parents that succeeded / died
           failed_parent  the first parent that died
           p:<parent id>  succeeded | failed
           e:<parent id>  the edge's policy (policy 'edges': workflows)
           left     released | dead | skipped (once it left the waiting place)
KEYS[4]  P:{Q}:ready     list
KEYS[5]  P:{Q}:priority  zset
KEYS[6]  P:{Q}:scheduled zset
KEYS[7]  P:{Q}:dead      zset
KEYS[8]  P:{Q}:stats     hash
KEYS[9]  P:{Q}:parent:<id> hash  the job's own parent record, when it was
         enqueued with dependents (a dead-lettered job is recorded as
         failed for them)
KEYS[10] P:{Q}:releases  zset  outbox
ARGV[1]  P:{Q}:events    pub/sub channel

Included by (after include/lib.lua, include/records.lua,
include/new_jobs.lua and include/flow.lua; `lua_deps!` in
store/scripts.rs):
enqueue_waiting.lua, release_child.lua.
]]

-- Records that `parent` ended with `outcome` ('succeeded' | 'failed').
-- Idempotent: a repeat changes nothing, and success is final (a parent
-- that died and then succeeded after an operator retry moves from bad to
-- ok). Returns true when something changed.
local function record_parent(deps_key, parent, outcome)
  local field = 'p:' .. parent
  local before = redis.call('HGET', deps_key, field)
  if before == outcome or before == 'succeeded' then return false end
  redis.call('HSET', deps_key, field, outcome)
  if outcome == 'succeeded' then
    redis.call('HINCRBY', deps_key, 'ok', 1)
    if before == 'failed' then redis.call('HINCRBY', deps_key, 'bad', -1) end
  else
    redis.call('HINCRBY', deps_key, 'bad', 1)
    redis.call('HSETNX', deps_key, 'failed_parent', parent)
  end
  return true
end

-- The record with an error entry appended to its envelope (a job that
-- waited for parents never ran, so it has no error history yet).
local function with_error(record, now, message)
  local newline = string.find(record, '\n', 1, true)
  if not newline then return record end
  local entry = string.format(',"errors":[{"attempt":0,"at":%d,"kind":"error","message":"%s"}]',
    math.floor(now), message)
  return string.sub(record, 1, newline - 2) .. entry .. string.sub(record, newline - 1)
end

-- Makes a released job ready, or schedules it when it was enqueued with a
-- delay or a run time still in the future.
local function place_released(record, dest, ms, now)
  local at = now
  if dest == 'in' then at = now + ms elseif dest == 'at' then at = ms end
  if at > now then
    local previous_head = min_score(KEYS[6])
    local id = record_id(record)
    record = set_run_at(record, at)
    if not store_record(KEYS[2], record, now, 'stored in the queue') then return end
    redis.call('ZADD', KEYS[6], at, id)
    if previous_head == nil or at < previous_head then
      redis.call('PUBLISH', ARGV[1], 's')
    end
    return
  end
  local was_idle = redis.call('LLEN', KEYS[4]) == 0 and redis.call('ZCARD', KEYS[5]) == 0
  make_ready_all(KEYS[4], KEYS[5], {set_run_at(record, now)}, now)
  if was_idle then redis.call('PUBLISH', ARGV[1], 'r') end
end

-- The verdict of a job whose policy is per edge ('edges', workflows):
-- every parent that did not succeed applies its own edge's policy. Returns
-- the parents resolved (succeeded, or failed on a 'run' edge), the first
-- parent failed on a 'dead_letter' edge and the first on a 'skip' edge.
-- Reads the whole deps hash: only workflow nodes pay it, and they have
-- few parents.
local function edge_verdict(deps_key)
  local fields = redis.call('HGETALL', deps_key)
  local edge = {}
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 2) == 'e:' then edge[string.sub(fields[i], 3)] = fields[i + 1] end
  end
  local resolved, dead, skip = 0, nil, nil
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 2) == 'p:' then
      local parent, outcome = string.sub(fields[i], 3), fields[i + 1]
      local policy = edge[parent] or 'dead_letter'
      if outcome == 'succeeded' or policy == 'run' then
        resolved = resolved + 1
      elseif policy == 'dead_letter' then
        dead = dead or parent
      elseif policy == 'skip' then
        skip = skip or parent
      end
    end
  end
  return resolved, dead, skip
end

-- A parent did not succeed and the job's policy says skip: the job leaves
-- the waiting place without running (its record is dropped, like a
-- success's), its deps hash says 'skipped', and its own dependents hear
-- 'failed' (their edge policies decide) while its parent record keeps
-- 'skipped' for the workflow's status.
local function skip_job(id, parent, now)
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HSET', KEYS[3], 'left', 'skipped', 'skipped_for', parent)
  redis.call('PEXPIRE', KEYS[3], DEPENDENCY_TTL_MS)
  resolve_parent(KEYS[9], KEYS[10], id, 'failed', now)
  if redis.call('EXISTS', KEYS[9]) == 1 then
    redis.call('HSET', KEYS[9], 'state', 'skipped')
  end
  return 'skipped'
end

-- Decides what a waiting job does now that its dependency state changed:
-- 'waiting' (not all parents succeeded), 'released' (made ready or
-- scheduled), 'dead' (a parent died under the dead_letter policy),
-- 'skipped' (a parent died under the skip policy) or 'absent' (not in the
-- waiting place: not enqueued yet, or gone).
local function settle(id, now)
  if not redis.call('ZSCORE', KEYS[1], id) then return 'absent' end
  local d = redis.call('HMGET', KEYS[3], 'need', 'policy', 'dest', 'ms', 'ok', 'bad', 'failed_parent')
  local need, policy, dest, ms = tonumber(d[1]) or 0, d[2], d[3], tonumber(d[4]) or 0
  local ok, bad = tonumber(d[5]) or 0, tonumber(d[6]) or 0
  local record = redis.call('HGET', KEYS[2], id)
  if not record then return 'absent' end
  local resolved, dead_for = ok, nil
  if policy == 'edges' then
    local skip_for
    resolved, dead_for, skip_for = edge_verdict(KEYS[3])
    if skip_for and not dead_for then return skip_job(id, skip_for, now) end
  elseif bad > 0 and policy == 'dead_letter' then
    dead_for = d[7] or '?'
  elseif bad > 0 and policy == 'skip' then
    return skip_job(id, d[7] or '?', now)
  elseif policy == 'run' then
    resolved = ok + bad
  end
  if dead_for then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HSET', KEYS[2], id, with_error(record, now, 'parent ' .. dead_for .. ' died'))
    redis.call('ZADD', KEYS[7], now, id)
    redis.call('HINCRBY', KEYS[8], 'dead', 1)
    redis.call('HSET', KEYS[3], 'left', 'dead')
    redis.call('PEXPIRE', KEYS[3], DEPENDENCY_TTL_MS)
    -- Its own dependents follow their policies in turn (the outbox entry
    -- is applied by the workers' sweeper).
    resolve_parent(KEYS[9], KEYS[10], id, 'failed', now)
    return 'dead'
  end
  if resolved < need then return 'waiting' end
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  place_released(record, dest, ms, now)
  redis.call('HSET', KEYS[3], 'left', 'released')
  redis.call('PEXPIRE', KEYS[3], DEPENDENCY_TTL_MS)
  return 'released'
end
