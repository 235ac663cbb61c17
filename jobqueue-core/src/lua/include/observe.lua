--[[ include/observe.lua — what the scripts that move jobs write for
watchers when an operator switched it on for the queue: the live event
stream and the history of finished jobs (docs/search-logs-events.md).

Both are off by default and switched per queue in one hash,
`P:{Q}:observe` (jobqueue-core/src/store/commands/observe.rs writes it):
  events          most entries kept in the event stream (absent: no events)
  history         most entries kept in the history (absent: no history)
  history_max     the hard cap when an exporter falls behind (see below)
  history_added   entries appended so far (counted here)
  history_lost    entries an exporter never saw, trimmed at the hard cap
A script reads the switches once per call (one HMGET of a missing key
when both are off, the whole cost of the feature when it is off).

The event stream `P:{Q}:event_stream` gets one entry per script call, not
per job: `k` the kind, `ids` the jobs' ids joined by spaces, and for
retries `at`, their due times (ms) in the same order. A reader expands an
entry into one event per job (jobqueue-core/src/admin/events.rs); an
event's id is the entry id and the job's position in it. Trimmed
approximately (`MAXLEN ~`) to the cap in the same XADD.

The history `P:{Q}:history` gets one entry per finished job, with the
same fields for every entry (a stream stores the field names once per
node then): `id`, `type`, `out` (succeeded, dead, cancelled, expired),
`enq` (enqueued, ms, from the UUID v7), `run` (due time if the job was
scheduled, else empty), `fin` (finished, ms), `att` (runs made), `err`
(the last error message as JSON string text, cut at 300 bytes), `tags`
(the JSON array, or empty), `tp` (W3C traceparent, or empty). Trimmed
to `history` entries — but while an exporter is registered
(`P:{Q}:history:export`: `cursor`, the last id it wrote, and `exported`,
how many of the appended entries it has written) only entries it has
written are trimmed, up to `history_max`; past that the oldest go anyway
and are counted in `history_lost`, so a loss is never silent.

Included by (after include/lib.lua and include/keys.lua): the scripts that
start or end jobs — fetch.lua, fetch_limited.lua, ack.lua, ack_batch.lua,
ack_keyed.lua, ack_parents.lua, ack_steps.lua, retry.lua, bury.lua,
bury_batch.lua, cancel.lua, expire.lua.
]]

-- The queue's switches: the event stream's cap and the history's cap
-- (nil when off), from its base `P:{Q}`.
local function observe_caps(base)
  local caps = redis.call('HMGET', queue_key(base, ':observe'), 'events', 'history')
  return tonumber(caps[1]), tonumber(caps[2])
end

-- One event-stream entry: the jobs `ids` went through `kind`; `due` (a
-- table of due times, same order) for retries. Nothing when `cap` is nil.
local function emit_events(base, cap, kind, ids, due)
  if not cap or #ids == 0 then return end
  local stream_key = queue_key(base, ':event_stream')
  if due then
    redis.call('XADD', stream_key, 'MAXLEN', '~', cap, '*', 'k', kind,
      'ids', table.concat(ids, ' '), 'at', table.concat(due, ' '))
  else
    redis.call('XADD', stream_key, 'MAXLEN', '~', cap, '*', 'k', kind, 'ids', table.concat(ids, ' '))
  end
end

-- The ids of `records` (leased records, whose ids are valid).
local function record_ids(records, from)
  local ids = {}
  for i = from or 1, #records do ids[#ids + 1] = record_id(records[i]) end
  return ids
end

-- The JSON string text from byte `from` (just past its opening quote) of
-- `text` up to its closing quote, or '' when that is not before `limit`.
local function json_string_at(text, from, limit)
  local at = from
  while true do
    local q = string.find(text, '["\\]', at)
    if not q or q > limit then return '' end
    if string.byte(text, q) == 92 then
      at = q + 2
    else
      return string.sub(text, from, q - 1)
    end
  end
end

-- The text of envelope string member `member` (e.g. ',"traceparent":"')
-- of `record`, or '' when absent.
local function envelope_text(record, member)
  local newline = string.find(record, '\n', 45, true) or #record
  local s, e = string.find(record, member, 45, true)
  if not s or s > newline then return '' end
  return json_string_at(record, e + 1, newline)
end

-- The message of the last entry in the envelope's error history, as JSON
-- string text cut at 300 bytes ('' when none). `"message":"` cannot occur
-- inside a JSON string (its quotes would be escaped), so the last match
-- in the envelope is the last entry's.
local HISTORY_ERROR_BYTES = 300
local function last_error(record)
  local newline = string.find(record, '\n', 45, true) or #record
  local last, from = nil, 45
  while true do
    local s, e = string.find(record, '"message":"', from, true)
    if not s or s > newline then break end
    last, from = e + 1, e + 1
  end
  if not last then return '' end
  return string.sub(json_string_at(record, last, newline), 1, HISTORY_ERROR_BYTES)
end

-- The envelope's tags as their JSON array text, or ''.
local function record_tags(record)
  local newline = string.find(record, '\n', 45, true) or #record
  local s, e = string.find(record, ',"tags":[', 45, true)
  if not s or s > newline then return '' end
  local close = json_array_end(record, e)
  if not close or close > newline then return '' end
  return string.sub(record, e, close)
end

-- Appends one history entry per record of `records` that ended with
-- `outcome` at `now`; `runs_extra` is 1 when the record's attempt count
-- does not yet include the run that ended it (a success), else 0. Then
-- trims as the header says. Nothing when `cap` is nil.
local function append_history(base, cap, outcome, records, runs_extra, now)
  if not cap or #records == 0 then return end
  local history_key = queue_key(base, ':history')
  local fin = string.format('%d', math.floor(now))
  for _, record in ipairs(records) do
    local te = type_end(record)
    local run_at = envelope_number(record, ',"run_at":')
    redis.call('XADD', history_key, '*',
      'id', record_id(record),
      'type', te and string.sub(record, 54, te - 1) or '',
      'out', outcome,
      'enq', string.format('%d', tonumber(string.sub(record, 8, 15) .. string.sub(record, 17, 20), 16) or 0),
      'run', run_at and string.format('%d', run_at) or '',
      'fin', fin,
      'att', (envelope_number(record, ',"attempt":') or 0) + runs_extra,
      'err', last_error(record),
      'tags', record_tags(record),
      'tp', envelope_text(record, ',"traceparent":"'))
  end
  local observe_key = queue_key(base, ':observe')
  local added = redis.call('HINCRBY', observe_key, 'history_added', #records)
  local length = redis.call('XLEN', history_key)
  if length <= cap then return end
  local export = redis.call('HMGET', queue_key(base, ':history:export'), 'cursor', 'exported')
  local unexported = added - (tonumber(export[2]) or added)
  if not export[1] or unexported <= cap then
    redis.call('XTRIM', history_key, 'MAXLEN', '~', cap)
    return
  end
  -- An exporter is behind: drop exactly what it wrote (the entries up to
  -- its cursor), then the oldest past the hard cap, counted as lost.
  local ms, seq = string.match(export[1], '^(%d+)%-(%d+)$')
  if ms then
    redis.call('XTRIM', history_key, 'MINID', ms .. '-' .. string.format('%d', tonumber(seq) + 1))
  end
  local hard = tonumber(redis.call('HGET', observe_key, 'history_max')) or cap * 10
  if redis.call('XLEN', history_key) > hard then
    local before = redis.call('XLEN', history_key)
    redis.call('XTRIM', history_key, 'MAXLEN', hard)
    local dropped = before - redis.call('XLEN', history_key)
    redis.call('HINCRBY', observe_key, 'history_lost', dropped)
    redis.call('HINCRBY', queue_key(base, ':history:export'), 'exported', dropped)
  end
end

-- Before jobs `ids` leave a worker's active hash: what the queue watches,
-- for observe_left once they are gone; nil when the queue watches
-- nothing. With the history on, the records the worker still holds are
-- read first (one HMGET; `held` when the caller has read them already):
-- the history needs them. Events alone need no records: observe_left
-- goes by how many of the ids the caller found held.
local function observe_leaving(base, active_key, ids, held)
  local events_cap, history_cap = observe_caps(base)
  if not events_cap and not history_cap then return nil end
  if history_cap and not held and #ids > 0 then
    held = redis.call('HMGET', active_key, unpack(ids))
  end
  return { base = base, events = events_cap, history = history_cap, held = held, ids = ids }
end

-- After the jobs of `watch` (from observe_leaving) left with `outcome`:
-- the event entry and history entries for those that were still held.
-- `final` maps an id to the record the job ended with, when the caller
-- has a newer one than the leased record (a dead job's error history).
-- `left` is how many of the ids the caller found held; without records
-- (events alone) every id is reported when any was held — the one
-- imprecision: a worker whose lease lapsed and that leased again before
-- acknowledging reports the reclaimed jobs' successes too (their handlers
-- did succeed; they run again elsewhere, at least once).
local function observe_left(watch, outcome, runs_extra, now, final, left)
  if not watch then return end
  local ids, records = watch.ids, watch.held
  if not records then
    if left and left > 0 then emit_events(watch.base, watch.events, outcome, ids) end
    return
  end
  local all_held = not final
  for i = 1, #ids do
    if not records[i] then
      all_held = false
      break
    end
  end
  -- The common case (every job still held, no newer records): the
  -- caller's tables as they are.
  if not all_held then
    ids, records = {}, {}
    for i = 1, #watch.ids do
      local record = watch.held[i]
      if record then
        ids[#ids + 1] = watch.ids[i]
        records[#records + 1] = (final and final[watch.ids[i]]) or record
      end
    end
  end
  emit_events(watch.base, watch.events, outcome, ids)
  append_history(watch.base, watch.history, outcome, records, runs_extra, now)
end

-- After bury_leased (include/flow.lua) dead-lettered the jobs of `argv`
-- (triples from `first`: id as leased, id in the dead set, final record)
-- that `leased` shows were still held: their `dead` event entry and
-- history entries, from the final records (which carry the last error).
local function observe_buried(base, leased, leased_ids, argv, first, now)
  local events_cap, history_cap = observe_caps(base)
  if not events_cap and not history_cap then return end
  local final = {}
  for n = 1, #leased_ids do
    final[leased_ids[n]] = argv[first + (n - 1) * 3 + 2]
  end
  observe_left({
    base = base, events = events_cap, history = history_cap, held = leased, ids = leased_ids,
  }, 'dead', 0, now, final)
end

-- One job `id` (record `record`) filed as finished with `outcome`
-- (cancelled, expired) by file_finished (include/flow.lua): its event and
-- history entries, when the queue at `base` watches.
local function observe_finished(base, outcome, id, record, now)
  local events_cap, history_cap = observe_caps(base)
  if not events_cap and not history_cap then return end
  emit_events(base, events_cap, outcome, {id})
  append_history(base, history_cap, outcome, {record}, 0, now)
end
