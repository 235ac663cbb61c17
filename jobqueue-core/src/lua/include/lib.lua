--[[ include/lib.lua — helpers shared by the scripts; prepended to every script.

A job record is `<envelope JSON>\n<payload JSON>` and the envelope always
starts with `{"id":"<36-char UUID v7>","type":"<name>"` (see wire/record.rs
and docs/protocol.md), so these helpers read and rewrite a record with
plain string operations and never parse the payload. Envelope members the
helpers look for (`,"attempt":`, `,"priority":`, `,"run_at":`) are searched
only inside the envelope, where an unescaped `,"name":` can only be a
member.

Included by: every script (store/scripts.rs prepends it first): ack.lua,
ack_batch.lua, ack_keyed.lua, ack_parents.lua, audit_refusal.lua,
batch_add.lua, batch_cancel.lua, batch_open.lua, batch_retry_dead.lua,
batch_seal.lua, bury.lua, bury_batch.lua, cancel.lua,
cron_resume.lua, cron_run_now.lua, cron_set.lua, cron_tick.lua,
delete_jobs.lua, delete_keyed.lua, enqueue_priority.lua, enqueue_unique.lua,
enqueue_waiting.lua, enqueue_with_id.lua, expire.lua, expired_leases.lua,
fetch.lua, fetch_limited.lua, handback.lua, heartbeat.lua, link_child.lua,
parent_open.lua, promote.lua, purge.lua, purge_keyed.lua, purge_memos.lua, reclaim.lua,
release_child.lua, requeue.lua, retry.lua, schedule.lua, unlock.lua,
step_store.lua, ack_steps.lua, signal_wait.lua, signal_send.lua,
enqueue_idempotent.lua, enqueue_idempotent_ready.lua.
]]

-- Milliseconds since the epoch on the Redis clock, with microseconds as the
-- fraction: the one clock every time decision in jobqueue uses (DESIGN.md
-- invariant 5). Due times are stored with the same precision (sorted-set
-- scores are doubles, exact to well under a microsecond), so "due" means
-- exactly due: a delayed job is never promoted even a fraction of a
-- millisecond early.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end

-- A time in ms as text, truncated to the microsecond (Lua numbers returned
-- to Redis would be truncated to whole integers; rounding up could make a
-- comparison admit a job a fraction of a microsecond early).
local function ms_text(ms)
  return string.format('%.3f', math.floor(ms * 1000) / 1000)
end

-- Jobs with priority p are ordered as if they became ready p steps earlier.
local PRIORITY_STEP_MS = 60000

-- True when `record` starts with `{"id":"` and has the closing quote of a
-- 36-character id at byte 44 (byte comparisons: no substrings created).
local function is_record(record)
  local a, b, c, d, e, f, g = string.byte(record, 1, 7)
  return a == 123 and b == 34 and c == 105 and d == 100 and e == 34 and f == 58 and g == 34
    and string.byte(record, 44) == 34
end

local function record_id(record)
  return string.sub(record, 8, 43)
end

-- The number after `member` (e.g. ',"priority":') in the envelope, or nil.
-- Searches without copying the envelope out of the record.
local function envelope_number(record, member)
  local s, e = string.find(record, member, 45, true)
  if not s then return nil end
  local newline = string.find(record, '\n', 45, true)
  if newline and s > newline then return nil end
  return tonumber(string.match(record, '^%-?%d+', e + 1))
end

-- True when the envelope has `"track":true` (the producer asked for a status:
-- JobBuilder::track or Job::TRACK). Read only on paths that write statuses.
local function record_tracked(record)
  local s = string.find(record, ',"track":true', 45, true)
  if not s then return false end
  local newline = string.find(record, '\n', 45, true)
  return not newline or s < newline
end

local function record_priority(record)
  return envelope_number(record, ',"priority":') or 0
end

-- When the record became ready: its run_at if scheduled, else the UUID v7 time.
local function record_ready_ms(record)
  return envelope_number(record, ',"run_at":')
    or tonumber(string.sub(record, 8, 15) .. string.sub(record, 17, 20), 16)
    or 0
end

-- Sets the envelope's run_at, whole ms (replacing an old one, else appending it).
local function set_run_at(record, at)
  local newline = string.find(record, '\n', 1, true)
  if not newline then return record end
  local value = string.format('%d', math.floor(at))
  local s, e = string.find(record, ',"run_at":%-?%d+', 45)
  if s and s < newline then
    return string.sub(record, 1, s - 1) .. ',"run_at":' .. value .. string.sub(record, e + 1)
  end
  return string.sub(record, 1, newline - 2) .. ',"run_at":' .. value .. string.sub(record, newline - 1)
end

-- Position of the last character of `,"type":"<name>"`, which follows the id.
local function type_end(record)
  local _, e = string.find(record, '^,"type":"[^"]*"', 45)
  return e
end

-- Counts one more attempt (the attempt member follows the type member).
local function bump_attempt(record)
  local t = type_end(record)
  if not t then return record end
  local s, e, n = string.find(record, '^,"attempt":(%d+)', t + 1)
  if s then
    return string.sub(record, 1, t) .. ',"attempt":' .. (tonumber(n) + 1) .. string.sub(record, e + 1)
  end
  return string.sub(record, 1, t) .. ',"attempt":1' .. string.sub(record, t + 1)
end

-- Gives the job a fresh set of attempts (operator retry of a dead job).
local function reset_attempt(record)
  local t = type_end(record)
  if not t then return record end
  local s, e = string.find(record, '^,"attempt":%d+', t + 1)
  if s then
    return string.sub(record, 1, t) .. string.sub(record, e + 1)
  end
  return record
end

-- The answer to an enqueue that found its idempotency key's marker `held`
-- (`<job id> <content digest>`, set by an earlier enqueue of the key):
-- 'exists' when `digest` (the new job's content digest) is the same, else
-- 'conflict'; and the id of the job holding the key
-- (enqueue_idempotent.lua, enqueue_idempotent_ready.lua).
local function held_key_answer(held, digest)
  local original, held_digest = string.match(held, '^(%S+) (%S+)$')
  return held_digest == digest and 'exists' or 'conflict', original or ''
end

-- Position of the `]` closing the JSON array whose `[` is at `open` in
-- `text`, skipping strings (error messages may hold brackets and escaped
-- quotes); nil when the text ends first.
local function json_array_end(text, open)
  local depth, at = 0, open
  while true do
    local found = string.find(text, '[%[%]"]', at)
    if not found then return nil end
    local c = string.byte(text, found)
    if c == 34 then -- '"': skip to the closing quote, past escapes
      local from = found + 1
      while true do
        local q = string.find(text, '["\\]', from)
        if not q then return nil end
        if string.byte(text, q) == 92 then
          from = q + 2
        else
          at = q + 1
          break
        end
      end
    elseif c == 91 then -- '['
      depth = depth + 1
      at = found + 1
    else -- ']'
      depth = depth - 1
      if depth == 0 then return found end
      at = found + 1
    end
  end
end

local function min_score(zset_key)
  local head = redis.call('ZRANGE', zset_key, 0, 0, 'WITHSCORES')
  if head[2] then return tonumber(head[2]) end
  return nil
end


-- How long a queue's per-minute and per-day counter buckets live.
local MINUTE_BUCKET_TTL_S = 2 * 3600
local DAY_BUCKET_TTL_S = 180 * 86400

-- The UTC date 'YYYY-MM-DD' of a day number (days since 1970-01-01), by
-- the civil-from-days algorithm (Redis Lua has no os.date).
local function utc_date(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local day = doy - math.floor((153 * mp + 2) / 5) + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (month <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02d', year, month, day)
end

-- Counts `n` jobs whose end this script just recorded under `field`
-- ('processed' or 'failed') in the queue's all-time counters and in its
-- per-minute and per-day buckets. `stats_key` is the declared
-- `P:{Q}:stats`; the buckets `P:{Q}:stats:minute:<epoch minute>` and
-- `P:{Q}:stats:day:<YYYY-MM-DD>` are named from it and from the Redis
-- clock (`now` ms, or TIME when nil), so they carry the queue's hash tag
-- and the same clock decides the bucket as the end itself
-- (tests/script_keys.rs accepts keys built only here). Called once per
-- script call with the batch's count, for the jobs the caller still held:
-- a late report of a lapsed lease counts nothing, and a call retried after
-- Redis applied it finds nothing held and counts nothing again.
--
-- A bucket's TTL is set when its field is created (the HINCRBY returns
-- `n`), in the same atomic step, so the steady state costs no EXPIRE.
local function count_ended(stats_key, field, n, now)
  if n <= 0 then return end
  local secs = math.floor((now or now_ms()) / 1000)
  local minute_bucket_key = stats_key .. ':minute:' .. math.floor(secs / 60)
  local day_bucket_key = stats_key .. ':day:' .. utc_date(math.floor(secs / 86400))
  redis.call('HINCRBY', stats_key, field, n)
  if redis.call('HINCRBY', minute_bucket_key, field, n) == n then
    redis.call('EXPIRE', minute_bucket_key, MINUTE_BUCKET_TTL_S)
  end
  if redis.call('HINCRBY', day_bucket_key, field, n) == n then
    redis.call('EXPIRE', day_bucket_key, DAY_BUCKET_TTL_S)
  end
end
