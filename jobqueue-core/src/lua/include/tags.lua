--[[ include/tags.lua — the per-queue tag index; prepended after
include/flow.lua (store/scripts.rs, `lua!(tags …)`) to the scripts that
enqueue new jobs that may carry tags: enqueue_priority.lua, schedule.lua,
enqueue_with_id.lua and enqueue_unique.lua; after include/new_jobs.lua
(`lua!(new_jobs …)`) to enqueue_idempotent.lua; and (`lua_deps!`, after
flow.lua) to enqueue_waiting.lua and release_child.lua, of which only
enqueue_waiting.lua indexes. The plain fetch and ack do not pay for it.

A tagged job's id is added to `P:{Q}:tag:<tag>` (a sorted set, every score
0, members the job ids, which are UUID v7s: their text sorts by enqueue
time, so the newest are last and a page is one ZREVRANGEBYLEX from a
cursor id) in the script that enqueues the job, so a job acknowledged to
its producer is always found by its tags.

Entries are not removed when a job ends: that would put a look-up of the
record into every acknowledgement, bury and trim. The index is bounded
instead, lazily: every write to a tag renews the key's TTL
(TAG_INDEX_MAX_AGE_MS, 7 days, the retention of cancelled and expired jobs
and of the status hash), and one write in 16 (the job id's last hex digit
is 0) also drops the entries of jobs enqueued more than 7 days ago and all
but the TAG_INDEX_MAX_ENTRIES (100,000) newest. So a tag holds about the
tagged enqueues of the last 7 days, at most 100,000 (plus the few writes
since its last trim), and an idle tag's key is gone 7 days after its last
write.
A search shows each entry's job where it is now, or as ended / not found.
]]

-- How long a tag index entry is kept after its job's enqueue (and a tag's
-- key after its last write), ms.
local TAG_INDEX_MAX_AGE_MS = 7 * 24 * 3600 * 1000

-- Most entries kept per tag (the newest).
local TAG_INDEX_MAX_ENTRIES = 100000

-- The tags in a record's envelope (the JSON array after `"tags":`), or nil
-- for an untagged record. Only the envelope (the first line) is looked at:
-- a payload member named "tags" is not one.
local function record_tags(record)
  local head_end = string.find(record, '\n', 1, true) or #record
  local at = string.find(record, '"tags":[', 1, true)
  if not at or at > head_end then return nil end
  local open = at + 7
  local close = json_array_end(record, open)
  if not close then return nil end
  local ok, tags = pcall(cjson.decode, string.sub(record, open, close))
  if not ok or type(tags) ~= 'table' then return nil end
  return tags
end

-- The smallest UUID v7 text of a job enqueued at `ms`: ids below it (in
-- the index's text order) belong to jobs enqueued earlier.
local function uuid_v7_floor(ms)
  local whole = math.floor(ms)
  local high = math.floor(whole / 65536)
  return string.format('%08x-%04x', high, whole - high * 65536)
end

-- Indexes the tags of `record` (a new job of the queue whose base is
-- `base`, `P:{Q}`) and trims each tag's index to its bounds. Returns how
-- many tags it indexed.
local function index_tags(base, record, now)
  local tags = record_tags(record)
  if not tags then return 0 end
  local id = record_id(record)
  -- Trimming on one write in 16 (the id's last hex digit, random in a
  -- UUID v7, is 0) halves the commands per tag; a tag then holds at most
  -- about 16 writes beyond its bounds.
  local trim = string.sub(id, -1) == '0'
  local oldest = trim and '(' .. uuid_v7_floor(now - TAG_INDEX_MAX_AGE_MS)
  for i = 1, #tags do
    local tag_key = queue_key(base, ':tag:' .. tostring(tags[i]))
    redis.call('ZADD', tag_key, 0, id)
    redis.call('PEXPIRE', tag_key, TAG_INDEX_MAX_AGE_MS)
    if trim then
      redis.call('ZREMRANGEBYLEX', tag_key, '-', oldest)
      redis.call('ZREMRANGEBYRANK', tag_key, 0, -TAG_INDEX_MAX_ENTRIES - 1)
    end
  end
  return #tags
end

-- Indexes the tags of every record of `records` (see index_tags).
local function index_tags_all(base, records, now)
  for i = 1, #records do
    index_tags(base, records[i], now)
  end
end
