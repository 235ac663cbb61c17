--[[ fetch_limited.lua — lease ready jobs from a queue with flow limits or
keyed jobs.

Used instead of fetch.lua for queues that have limits (P:{Q}:limits) or
have had keyed jobs (P:{Q}:flow), so other queues pay nothing. Same lease
as fetch.lua, but it leases no more than the limits allow, across every
worker process:

* max_running: at most N jobs of the queue leased at once. "Leased" is
  counted as the sizes of every leasing worker's active hash, so finished,
  reclaimed and handed-back jobs stop counting the moment they leave, with
  no counter to drift. The caller passes the hashes of the workers it
  believes hold leases (a cached list); the script checks the list against
  the leases set and, if it is out of date, returns the current one
  instead ({4, worker id…}) so the caller can ask again.
  At the limit it sets the waiter flag P:{Q}:slotwait (TTL: the recheck
  interval + 1 s) in the same step, so the worker that frees a slot next
  wakes the waiting workers (wake_waiters.lua) — the flag is set by the
  same script that saw the queue full, so no freed slot is missed.
* rate (token bucket): at most `rate_limit` jobs started per `rate_ms`,
  with bursts up to `rate_limit`. Tokens are refilled continuously on the
  Redis clock and spent only for jobs actually leased. With `rate_mode` =
  `window` (strict) a sliding window instead: at most `rate_limit` starts
  in ANY `rate_ms`, the lease times in P:{Q}:window; when it is full the
  reply says when its oldest start leaves it.
* keyed jobs (see include/flow.lua, "Keyed flow control"): the ready keys are served
  round-robin, oldest first, each within its class's running limit and
  token bucket (P:{Q}:gbucket:<key>) or strict window
  (P:{Q}:gwindow:<key>, a class spec ending in ":w"), beside the ready list: a key whose
  turn came before the ready list's head is served first. A key at its
  running limit leaves P:{Q}:gready until one of its jobs leaves its
  worker; a key out of tokens stays in it, scored with when it has one.
* weighted fairness (only while P:{Q}:gweights exists): deficit
  round-robin. Each turn gives a key a quantum of its weight (its own
  entry in P:{Q}:gweights, else its class's, else 1) times the batch's
  base share; it takes up to its credit (P:{Q}:gcredit), and keeps its
  place at the front of the round while credit is left and its jobs wait,
  so a weight-3 key starts three jobs for every one of a weight-1 key
  however small the workers' batches are.
* per-key waits: each leased keyed job's wait (lease time − ready time)
  goes to the capped sample list P:{Q}:gwaits ("<ms>:<key>", newest
  first, GWAIT_SAMPLES kept), from which the dashboard computes per-key
  p50/p99 (store/commands/flow_waits.rs).

Jobs held back stay where they wait, in order: they are not failed and no
attempt is counted. The reply says how long to wait before asking again.
A record whose id is already leased to this worker is dead-lettered, not
leased (see lease_records in include/records.lua).

Called by: store/ops/fetch_limited.rs, from the worker's fetch rounds
(jobqueue-worker/src/loops/fetch_round.rs) and the inline worker
(jobqueue-worker/src/inline.rs), instead of fetch.lua for queues with
flow limits or keyed jobs (jobqueue-worker/src/state/flow_limits.rs
knows which).

KEYS[1]  P:{Q}:ready        list
KEYS[2]  P:{Q}:priority     zset
KEYS[3]  P:{Q}:active:<wid> hash  (this worker)
KEYS[4]  P:{Q}:leases       zset
KEYS[5]  P:{Q}:paused       string
KEYS[6]  P:{Q}:limits       hash  max_running, rate_limit, rate_ms, rate_mode
KEYS[7]  P:{Q}:rate         hash  tokens, at (token bucket state)
KEYS[8]  P:{Q}:gready       zset  key → when it may run
KEYS[9]  P:{Q}:grun         hash  key → leased jobs
KEYS[10] P:{Q}:glimits      hash  class → "max:rate:per_ms" (":w" appended: strict)
KEYS[11] P:{Q}:jobs         hash  id → record
KEYS[12] P:{Q}:slotwait     string  present while a worker waits for a running slot
KEYS[13] P:{Q}:window       zset  "<id>@<ms>" → lease time (strict rate window)
KEYS[14…] P:{Q}:active:<wid> hashes of the workers holding a lease
ARGV[1]  worker id
ARGV[2]  most jobs to lease (1-1000)
ARGV[3]  ms to wait at the running limit before asking again (the
         fallback: a freed slot wakes the worker sooner)
ARGV[4…] the worker ids of KEYS[14…], in the same order

A `started` entry goes to the queue's event stream when it is on
(include/observe.lua).

Returns: as fetch.lua ({0, record…} / {1} paused / {2} no lease),
         {3, retry_after_ms} when the limits allow nothing now, or
         {4, worker id…} when the worker list passed in is out of date.
]]
if redis.call('EXISTS', KEYS[5]) == 1 then
  return {1}
end
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  return {2}
end
local want = tonumber(ARGV[2])
local limits = redis.call('HMGET', KEYS[6], 'max_running', 'rate_limit', 'rate_ms', 'rate_mode')
local max_running, rate_limit, rate_ms = tonumber(limits[1]), tonumber(limits[2]), tonumber(limits[3])
local strict = limits[4] == 'window'
-- How long to wait when the running limit binds, unless a freed slot
-- wakes the worker first (it sets the waiter flag below).
local RUNNING_RETRY_MS = math.max(1, tonumber(ARGV[3]) or 50)

if max_running then
  local passed = #KEYS - 13
  local current = redis.call('ZCARD', KEYS[4]) == passed
  for i = 1, passed do
    if not current then break end
    current = redis.call('ZSCORE', KEYS[4], ARGV[3 + i]) ~= false
  end
  if not current then
    local out = {4}
    for _, wid in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do out[#out + 1] = wid end
    return out
  end
  local running = 0
  for i = 14, #KEYS do
    running = running + redis.call('HLEN', KEYS[i])
  end
  if running >= max_running then
    redis.call('SET', KEYS[12], '1', 'PX', RUNNING_RETRY_MS + 1000)
    return {3, RUNNING_RETRY_MS}
  end
  want = math.min(want, max_running - running)
end

local now, tokens = now_ms(), nil
local window = nil
if strict and rate_limit and rate_ms and rate_limit > 0 and rate_ms > 0 then
  local room, wait = window_room(KEYS[13], rate_limit, rate_ms, now)
  if room < 1 then return {3, wait} end
  want = math.min(want, room)
  window = KEYS[13]
elseif rate_limit and rate_ms and rate_limit > 0 and rate_ms > 0 then
  tokens = bucket_tokens(KEYS[7], rate_limit, rate_ms, now)
  if tokens < 1 then
    bucket_store(KEYS[7], tokens, now, rate_ms)
    return {3, bucket_wait(tokens, rate_limit, rate_ms)}
  end
  want = math.min(want, math.floor(tokens))
end

-- Keyed jobs: ready keys whose turn came before the ready list's head.
local KEYED_RETRY_MS = 100
-- How many recent keyed waits P:{Q}:gwaits keeps (store/commands/flow_waits.rs
-- reads them; the same number there).
local GWAIT_SAMPLES = 5000
local base = flow_base(KEYS[8], ':gready')
local keyed = {}
local turn = now
local head = redis.call('LINDEX', KEYS[1], 0)
if head then turn = math.min(now, record_ready_ms(head)) end
local keys = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', ms_text(turn), 'LIMIT', 0, want)
local class_limits = {}
local function limits_of(key)
  local class = string.match(key, '^([^:]*):') or key
  local known = class_limits[class]
  if known then return known end
  local found = {max = 1}
  local spec = redis.call('HGET', KEYS[10], class)
  if spec then
    local max, rate, per, mode = string.match(spec, '^(%d+):(%d+):(%d+)(:?w?)$')
    max, rate, per = tonumber(max), tonumber(rate), tonumber(per)
    found.max = (max and max > 0) and max or nil
    if rate and per and rate > 0 and per > 0 then
      found.rate, found.per, found.window = rate, per, mode == ':w'
    end
  end
  class_limits[class] = found
  return found
end
-- Each key takes at most its share of the batch, so one busy key cannot
-- crowd the others out of a fetch. With weights, the share is a deficit
-- round-robin quantum: weight × base share, kept as credit across fetches.
local share = math.max(1, math.ceil(want / math.max(1, #keys)))
local weights_key = queue_key(base, ':gweights')
local credit_key = queue_key(base, ':gcredit')
local weighted = #keys > 0 and redis.call('EXISTS', weights_key) == 1
local weight_of = {}
if weighted then
  local total = 0
  for _, key in ipairs(keys) do
    local class = string.match(key, '^([^:]*):') or key
    local found = redis.call('HMGET', weights_key, key, class)
    local weight = tonumber(found[1]) or tonumber(found[2]) or 1
    weight_of[key] = weight
    total = total + weight
  end
  share = math.max(1, math.floor(want / total))
end
-- When a keyed job began to wait: its run_at if it was scheduled, else its
-- id's time when that is a UUID v7 (a given id of another version has no
-- time: no sample).
local function wait_start(record)
  local run_at = envelope_number(record, ',"run_at":')
  if run_at then return run_at end
  if string.sub(record, 22, 22) == '7' then return record_ready_ms(record) end
  return nil
end
local waits = {}
for position, key in ipairs(keys) do
  local room = want - #keyed
  if room <= 0 then break end
  local list_key = queue_key(base, ':g:' .. key)
  local limits = limits_of(key)
  local running = tonumber(redis.call('HGET', KEYS[9], key)) or 0
  local credit = nil
  if weighted then
    credit = tonumber(redis.call('HGET', credit_key, key)) or 0
    -- A new turn (the last one used up its credit): one more quantum.
    if credit < 1 then credit = credit + weight_of[key] * share end
  end
  local take = math.min(room, credit or share)
  -- Round-robin: the batch filled before this key had its share, so it
  -- keeps its place at the front of the round (else the first key listed
  -- would always get the full share and the next one the rest).
  local short_of_share = not weighted and room < share
  if limits.max then take = math.min(take, limits.max - running) end
  local bucket_key, key_tokens, window_key, key_wait = nil, nil, nil, nil
  if take > 0 and limits.rate and limits.window then
    window_key = queue_key(base, ':gwindow:' .. key)
    take = math.min(take, (window_room(window_key, limits.rate, limits.per, now)))
  elseif take > 0 and limits.rate then
    bucket_key = queue_key(base, ':gbucket:' .. key)
    key_tokens = bucket_tokens(bucket_key, limits.rate, limits.per, now)
    take = math.min(take, math.floor(key_tokens))
  end
  local ids = {}
  if take > 0 then ids = redis.call('LPOP', list_key, take) or {} end
  if #ids > 0 then
    flow_taken(base, #ids)
    local records = redis.call('HMGET', KEYS[11], unpack(ids))
    redis.call('HDEL', KEYS[11], unpack(ids))
    local got = 0
    for _, record in ipairs(records) do
      if record then
        keyed[#keyed + 1] = record
        got = got + 1
        local ready_at = wait_start(record)
        if ready_at then
          waits[#waits + 1] = string.format('%d', math.max(0, now - ready_at)) .. ':' .. key
        end
      end
    end
    running = running + got
    if credit then credit = credit - got end
    if got > 0 then redis.call('HINCRBY', KEYS[9], key, got) end
    if key_tokens then
      key_tokens = key_tokens - got
      bucket_store(bucket_key, key_tokens, now, limits.per)
    end
    if window_key then window_add(window_key, ids, now, limits.per) end
  end
  if key_tokens and key_tokens < 1 then
    key_wait = bucket_wait(key_tokens, limits.rate, limits.per)
  elseif window_key then
    local room, wait = window_room(window_key, limits.rate, limits.per, now)
    if room < 1 then key_wait = wait end
  end
  if redis.call('EXISTS', list_key) == 0 or (limits.max and running >= limits.max) then
    -- Nothing waits, or at its running limit: a leaving job re-readies it
    -- (with a fresh turn: deficit round-robin forgets an idle key's credit).
    redis.call('ZREM', KEYS[8], key)
    if weighted then redis.call('HDEL', credit_key, key) end
  elseif key_wait then
    redis.call('ZADD', KEYS[8], ms_text(now + key_wait), key)
    if weighted then redis.call('HSET', credit_key, key, credit) end
  elseif credit and credit >= 1 then
    -- The batch filled before its credit ran out: it keeps its place at
    -- the front of the round and goes on at the next fetch.
    redis.call('HSET', credit_key, key, credit)
  elseif short_of_share then
    -- Keeps its place: served first at the next fetch.
  else
    -- Served its share: to the back of the round, behind the keys served
    -- before it in this fetch (1 µs apart, the last one at now), so keys
    -- served alike keep their order instead of falling back to name order
    -- (which would hand the first key by name the larger part of every
    -- uneven batch).
    redis.call('ZADD', KEYS[8], ms_text(now - (#keys - position) / 1000), key)
    if weighted then redis.call('HDEL', credit_key, key) end
  end
end
if #waits > 0 then
  local waits_key = queue_key(base, ':gwaits')
  redis.call('LPUSH', waits_key, unpack(waits))
  redis.call('LTRIM', waits_key, 0, GWAIT_SAMPLES - 1)
end
local out = {0}
if #keyed > 0 then
  local not_leased, requeued
  out, not_leased, requeued = lease_records(base, KEYS[3], KEYS[1], keyed)
  -- A keyed record that was not leased (dead-lettered: its id was taken;
  -- or malformed, back in the ready list) no longer runs under its key.
  flow_leave(base, not_leased)
  flow_leave(base, requeued)
end
if want - #keyed > 0 then
  local ready = lease_ready(KEYS[1], KEYS[2], KEYS[3], want - #keyed)
  for i = 2, #ready do out[#out + 1] = ready[i] end
end
local leased = #out - 1
if tokens then
  bucket_store(KEYS[7], tokens - leased, now, rate_ms)
elseif window and leased > 0 then
  local ids = {}
  for i = 2, #out do ids[#ids + 1] = record_id(out[i]) end
  window_add(window, ids, now, rate_ms)
end
if leased == 0 then
  -- Only keys waiting for tokens: ask again when the first has one (at
  -- most KEYED_RETRY_MS, so jobs enqueued meanwhile wait no longer).
  local next_key = redis.call('ZRANGE', KEYS[8], 0, 0, 'WITHSCORES')
  if next_key[2] then
    return {3, math.max(1, math.min(KEYED_RETRY_MS, math.ceil(tonumber(next_key[2]) - now)))}
  end
else
  emit_events(base, observe_caps(base), 'started', record_ids(out, 2))
end
return out
