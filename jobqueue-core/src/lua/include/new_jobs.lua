--[[ include/new_jobs.lua — making new jobs ready: filing a record under its
id, keyed jobs in their key's list, plain and prioritised ones in the
ready list and priority set, scheduled ones in the scheduled set; and the
idempotency markers of new jobs (content digests, claiming a given id).
Prepended after include/lib.lua and include/records.lua, before
include/flow.lua where a script has it: enqueue_idempotent.lua takes only
these three includes (`lua!(new_jobs …)` in store/scripts.rs), so a single
idempotent enqueue does not define flow.lua's ~25 helpers on every call
(docs/benchmarks.md, "Idempotent single enqueue").

Included by (after include/lib.lua and include/records.lua; `lua!(new_jobs
…)`, `lua!(flow …)`, `lua_batch!(flow …)` and `lua_deps!` in
store/scripts.rs): enqueue_idempotent.lua and every script that takes
include/flow.lua (listed there).

Keyed flow control (docs/flow-control.md, "Keyed flow control"). A job
whose envelope has a "flow" member waits in its key's list
P:{Q}:g:<key> (ids, FIFO; the record in P:{Q}:jobs) instead of the ready
list; P:{Q}:gwaiting counts them all. P:{Q}:gready (zset key → when it
may run next) holds the keys that have waiting jobs and are below their
running limit; P:{Q}:grun (hash key → leased jobs) counts each key's
leased jobs; P:{Q}:glimits (hash class → "max:rate:per_ms") holds the
limits of key classes (the text before a key's first ':'). The names are
built from the queue's base `P:{Q}`, so they share the queue's hash tag
(one slot) and a record of any key can be routed from any script
(flow_base and queue_key, in include/records.lua).
]]

-- The text of string member `member` (e.g. ',"flow":"') in a record's
-- envelope, or nil. Searches only the envelope, without copying it out.
-- (The members read this way hold no escaped quotes: flow keys and
-- uniqueness digests are plain printable ASCII without `"` or `\`.)
local function envelope_text(record, member)
  local newline = string.find(record, '\n', 45, true)
  if not newline then return nil end
  local s, e = string.find(record, member, 45, true)
  if not s or s > newline then return nil end
  local close = string.find(record, '"', e + 1, true)
  if not close or close > newline then return nil end
  return string.sub(record, e + 1, close - 1)
end

-- The flow key in a record's envelope, or nil.
local function record_flow(record)
  return envelope_text(record, ',"flow":"')
end

-- Stores `record` in the jobs hash under its id unless another record
-- holds that id, in which case it is dead-lettered (bury_duplicate).
-- Returns true when it was stored under its own id.
local function store_record(jobs_key, record, now, where)
  if redis.call('HSETNX', jobs_key, record_id(record), record) == 1 then
    return true
  end
  bury_duplicate(flow_base(jobs_key, ':jobs'), record, now, where)
  return false
end

-- Files a keyed job in its key's list (at the tail, or at the head for a
-- job coming back from a worker) and makes the key ready unless it already
-- is (or is parked by its rate limit). Marks the queue as having keyed jobs
-- (P:{Q}:flow), telling workers once (`l`) to fetch it with
-- fetch_limited.lua. Returns 1 when the key became ready. A record whose
-- id another record holds is dead-lettered instead (include/records.lua).
local function flow_push(base, key, record, now, at_head)
  local id = record_id(record)
  if not store_record(queue_key(base, ':jobs'), record, now, 'stored in the queue') then
    return 0
  end
  redis.call('INCR', queue_key(base, ':gwaiting'))
  if at_head then
    redis.call('LPUSH', queue_key(base, ':g:' .. key), id)
  else
    redis.call('RPUSH', queue_key(base, ':g:' .. key), id)
  end
  if redis.call('SET', queue_key(base, ':flow'), '1', 'NX') then
    redis.call('PUBLISH', base .. ':events', 'l')
  end
  return redis.call('ZADD', queue_key(base, ':gready'), 'NX', ms_text(now), key)
end

-- Makes records ready: plain ones appended to the ready list in order
-- with one RPUSH, prioritised ones added to the priority set with one ZADD,
-- keyed ones (a "flow" member) appended to their key's list.
local function make_ready_all(ready_key, priority_key, records, now)
  local plain, scored = {}, {}
  local base, woke = nil, 0
  for i = 1, #records do
    local record = records[i]
    local key = record_flow(record)
    local p = key and 0 or record_priority(record)
    if key then
      base = base or flow_base(ready_key, ':ready')
      woke = woke + flow_push(base, key, record, now, false)
    elseif p ~= 0 then
      scored[#scored + 1] = now - p * PRIORITY_STEP_MS
      scored[#scored + 1] = record
    else
      plain[#plain + 1] = record
    end
  end
  if #plain > 0 then redis.call('RPUSH', ready_key, unpack(plain)) end
  if #scored > 0 then redis.call('ZADD', priority_key, unpack(scored)) end
  if woke > 0 then redis.call('PUBLISH', base .. ':events', 'r') end
end

-- What makes two enqueues "the same job": its type and payload (not the
-- envelope, which retries and scheduling rewrite): the SHA-1 (hex) of
-- `<type>\n<payload>`. A client may compute it itself and pass it
-- (enqueue_idempotent.lua takes it as an argument; docs/protocol.md). An
-- encrypted payload differs at every encryption: its envelope carries the
-- digest of the plain payload (`digest`, keyed), which is used instead.
local function content_digest(record)
  local given = envelope_text(record, ',"digest":"')
  if given then return given end
  local job_type = string.match(record, '^,"type":"([^"]*)"', 45) or ''
  local newline = string.find(record, '\n', 45, true)
  local payload = newline and string.sub(record, newline + 1) or ''
  return redis.sha1hex(job_type .. '\n' .. payload)
end

-- Claims a caller-given job id for `record` (enqueue_with_id.lua,
-- enqueue_waiting.lua): its idempotency marker `marker_key` (P:{Q}:id:<id>)
-- takes the digest of the job's content for `window` ms. Returns nil when
-- the id was free (the caller enqueues the job in the same step), else
-- 'exists' (the marker, or a record stored under the id in the jobs hash,
-- is this same job) or 'taken' (another job). A stored record found after
-- the marker lapsed claims the marker again for itself. `digest` is the
-- record's content_digest when the caller has it already (else nil).
local function claim_id(marker_key, jobs_key, record, window, digest)
  local held = redis.call('GET', marker_key)
  if not held then
    local stored = redis.call('HGET', jobs_key, record_id(record))
    if stored then
      held = content_digest(stored)
      redis.call('SET', marker_key, held, 'PX', window)
    end
  end
  digest = digest or content_digest(record)
  if not held then
    redis.call('SET', marker_key, digest, 'PX', window)
    return nil
  end
  if held == digest then return 'exists' end
  return 'taken'
end

-- The arguments of one new job of enqueue_with_id.lua or
-- enqueue_idempotent.lua (a record, 'now' | 'in' | 'at', ms): an error
-- reply naming what is wrong, or nil. `a` is the record's ARGV index.
local function new_job_error(record, when, ms, a)
  if not is_record(record) then
    return redis.error_reply('ERR jobqueue: argument ' .. a .. ' is not a job record')
  end
  if (when ~= 'now' and when ~= 'in' and when ~= 'at') or not string.match(ms, '^%-?%d+$') then
    return redis.error_reply('ERR jobqueue: the schedule of argument ' .. a .. " must be 'now', 'in' or 'at' and ms")
  end
  return nil
end

-- Places a new job of enqueue_with_id.lua or enqueue_idempotent.lua: in the
-- scheduled set (record with its run_at in the jobs hash) when it is due
-- later than now, else appended to `to_ready`, which the caller makes ready
-- with finish_new_jobs. Returns its due time when scheduled, else nil.
local function place_new_job(scheduled_key, jobs_key, record, when, ms, now, to_ready)
  local at = now
  if when == 'in' then at = now + ms elseif when == 'at' then at = ms end
  if when ~= 'now' then record = set_run_at(record, at) end
  if at > now then
    local id = record_id(record)
    redis.call('ZADD', scheduled_key, at, id)
    redis.call('HSET', jobs_key, id, record)
    return at
  end
  to_ready[#to_ready + 1] = record
  return nil
end

-- Makes the new jobs of the call ready and publishes the wake-ups: 'r' when
-- the queue was idle, 's' when the earliest schedule moved earlier.
local function finish_new_jobs(ready_key, priority_key, events, to_ready, now, earliest, previous_head)
  if #to_ready > 0 then
    local was_idle = redis.call('LLEN', ready_key) == 0 and redis.call('ZCARD', priority_key) == 0
    make_ready_all(ready_key, priority_key, to_ready, now)
    if was_idle then redis.call('PUBLISH', events, 'r') end
  end
  if earliest and (previous_head == nil or earliest < previous_head) then
    redis.call('PUBLISH', events, 's')
  end
end
