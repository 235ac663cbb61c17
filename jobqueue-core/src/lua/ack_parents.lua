--[[ ack_parents.lua — a worker finished jobs that have dependents,
successfully: drop them (as ack.lua) and, in the same step, record the
success for their dependents.

Each job still leased by this worker is removed from the active hash, its
parent hash says 'succeeded' (kept 30 days, for dependents enqueued later)
and keeps the job's result, if it left one,
and when it has children, `<id>|succeeded` goes to the queue's release
outbox. The caller then releases the children on their queues and removes
the entry; the reaper's sweep finishes entries a crashed worker left. A keyed job's
flow key is released (as ack_keyed.lua), and a unique job's lock freed
(release_unique in include/flow.lua). The jobs removed are counted as
`processed` (count_ended in include/lib.lua). A durable job's memo, pending
signals and index entries go with it (drop_memos in include/flow.lua).

Called by: store/ops/ack_parents.rs, packed by store/completion.rs for
the jobs with dependents in a worker's batch of successes: the outcome writer
(jobqueue-worker/src/loops/outcome_writer.rs) or the inline worker
(jobqueue-worker/src/inline.rs). The worker then applies the outbox entries
(store/releases.rs, from jobqueue-worker/src/run/recording.rs).

KEYS[1]   P:{Q}:active:<wid> hash
KEYS[2]   P:{Q}:releases     zset  outbox
KEYS[3]   P:{Q}:stats        hash
KEYS[4…]  P:{Q}:parent:<id>  hash, one per id, in ARGV order
ARGV[1…n] job ids (n = #KEYS - 3)
ARGV[n+1…2n] each job's result (JSON, from ctx.set_result; '' for none),
          kept in its parent hash's `result` field for its dependents
          (ctx.parent_result) as long as the hash lives

Returns: {acked, outbox entries filed…}

Watched as ack.lua (include/observe.lua).
]]
local now = now_ms()
local out = {0}
local n = #KEYS - 3
local ids = {unpack(ARGV, 1, n)}
local records, left, acked_ids = redis.call('HMGET', KEYS[1], unpack(ids)), {}, {}
local base = flow_base(KEYS[2], ':releases')
local watch = observe_leaving(base, KEYS[1], ids, records)
for i = 1, n do
  if records[i] and redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    left[#left + 1] = records[i]
    out[1] = out[1] + 1
    acked_ids[#acked_ids + 1] = ARGV[i]
    if resolve_parent(KEYS[i + 3], KEYS[2], ARGV[i], 'succeeded', now) then
      out[#out + 1] = ARGV[i] .. '|succeeded'
    end
    -- After resolve_parent, which counts the hash's fields to find children.
    local result = ARGV[n + i]
    if result and result ~= '' and redis.call('EXISTS', KEYS[i + 3]) == 1 then
      redis.call('HSET', KEYS[i + 3], 'result', result)
    end
  end
end
flow_leave(base, left)
drop_memos(base, acked_ids)
for _, record in ipairs(left) do release_unique(base, record) end
count_ended(KEYS[3], 'processed', out[1], now)
observe_left(watch, 'succeeded', 1, now)
return out
