--[[ lib.lua — helpers shared by the scripts; prepended to every script.

A job record is `<envelope JSON>\n<payload JSON>` and the envelope always
starts with `{"id":"<36-char UUID v7>","type":"<name>"` (see record.rs), so
these helpers read and rewrite a record with plain string operations and
never parse the payload. Envelope members the helpers look for
(`,"attempt":`, `,"priority":`, `,"run_at":`) are searched only inside the
envelope, where an unescaped `,"name":` can only be a member.
]]

-- Milliseconds since the epoch on the Redis clock: the one clock every
-- time decision in jobqueue uses (DESIGN.md invariant 5).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Jobs with priority p are ordered as if they became ready p steps earlier.
local PRIORITY_STEP_MS = 60000

local function is_record(record)
  return string.sub(record, 1, 7) == '{"id":"' and string.sub(record, 44, 44) == '"'
end

local function record_id(record)
  return string.sub(record, 8, 43)
end

local function envelope_of(record)
  local newline = string.find(record, '\n', 1, true)
  if not newline then return record end
  return string.sub(record, 1, newline - 1)
end

local function record_priority(record)
  local p = string.match(envelope_of(record), ',"priority":(%-?%d+)')
  if p then return tonumber(p) end
  return 0
end

-- When the record became ready: its run_at if scheduled, else the UUID v7 time.
local function record_ready_ms(record)
  local at = string.match(envelope_of(record), ',"run_at":(%-?%d+)')
  if at then return tonumber(at) end
  return tonumber(string.sub(record, 8, 15) .. string.sub(record, 17, 20), 16) or 0
end

-- Sets the envelope's run_at (replacing an old one, else appending it).
local function set_run_at(record, at)
  local newline = string.find(record, '\n', 1, true)
  if not newline then return record end
  local envelope = string.sub(record, 1, newline - 1)
  local value = string.format('%d', at)
  local s, e = string.find(envelope, ',"run_at":%-?%d+')
  if s then
    envelope = string.sub(envelope, 1, s - 1) .. ',"run_at":' .. value .. string.sub(envelope, e + 1)
  else
    envelope = string.sub(envelope, 1, -2) .. ',"run_at":' .. value .. '}'
  end
  return envelope .. string.sub(record, newline)
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

-- Appends a record to the ready list, or to the priority set when it has a priority.
local function make_ready(ready_key, priority_key, record, now)
  local p = record_priority(record)
  if p ~= 0 then
    redis.call('ZADD', priority_key, now - p * PRIORITY_STEP_MS, record)
  else
    redis.call('RPUSH', ready_key, record)
  end
end

local function min_score(zset_key)
  local head = redis.call('ZRANGE', zset_key, 0, 0, 'WITHSCORES')
  if head[2] then return tonumber(head[2]) end
  return nil
end

