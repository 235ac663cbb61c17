--[[ enqueue_waiting.lua — accept a job that runs after its parents.

The job goes to the waiting-for-parents place (its id in the waiting set,
its record in the jobs hash) with its dependency state, then is settled at
once: parents that had already ended (their states, read by
link_child.lua on their queues just before, in ARGV) and releases that
arrived between that read and now (already in the deps hash) count, so a
parent that succeeded before the job was enqueued is never waited for.

A job whose id the producer gave (JobBuilder::id) claims its idempotency
marker first (claim_id in include/flow.lua, as enqueue_with_id.lua): a
retry of an enqueue that was applied writes nothing ('exists'), another job
under the id is refused ('taken'). Without a marker, an id another record
holds in the jobs hash fails the call ('duplicate job id'): a record never
replaces another.

Called by: store/ops/enqueue_waiting.rs, when a producer enqueues a job
with parents (`after`, `after_all`; client/after.rs), right after
link_child.lua ran on each parent's queue.

KEYS     as in include/deps.lua (waiting, jobs, deps, ready, priority,
         scheduled, dead, stats, parent, releases)
KEYS[11] P:{Q}:id:<id> string, the idempotency marker (only for a job
         whose producer gave its id)
ARGV[1]  P:{Q}:events channel
ARGV[2]  the job record
ARGV[3]  parents needed
ARGV[4]  policy: dead_letter | run | wait | skip, or edges (a policy per
         parent, in the triples below: workflows)
ARGV[5]  destination when released: now | in | at
ARGV[6]  ms: the delay (in) or the instant (at); 0 for now
ARGV[7]  the idempotency window, whole ms, with KEYS[11]; else ''
ARGV[8…] pairs: parent id, its state (pending | succeeded | failed);
         with the policy 'edges', triples: parent id, its state, the
         edge's policy (dead_letter | run | wait | skip), kept in the deps
         hash as e:<parent id>
Also writes (from KEYS[2]'s base): P:{Q}:tag:<tag> zset, the tag index of
a tagged job (include/tags.lua), before it is settled.

Returns: 'waiting' | 'released' | 'dead' | 'skipped' | 'exists' | 'taken'
]]
local record = ARGV[2]
if not is_record(record) then
  return redis.error_reply('ERR jobqueue: argument 2 is not a job record')
end
local now = now_ms()
local id = record_id(record)
if KEYS[11] then
  local window = string.match(ARGV[7], '^%d+$') and tonumber(ARGV[7])
  if not window or window < 1 or string.sub(KEYS[11], -36) ~= id then
    return redis.error_reply('ERR jobqueue: the marker key or the idempotency window is not valid')
  end
  local found = claim_id(KEYS[11], KEYS[2], record, window)
  if found then return found end
elseif redis.call('HEXISTS', KEYS[2], id) == 1 then
  return redis.error_reply('ERR jobqueue: duplicate job id ' .. id .. ' (taken by a stored job)')
end
local step = 2
if ARGV[4] == 'edges' then step = 3 end
for i = 8, #ARGV, step do
  local state = ARGV[i + 1]
  if step == 3 then redis.call('HSET', KEYS[3], 'e:' .. ARGV[i], ARGV[i + 2]) end
  if state == 'succeeded' or state == 'failed' then
    record_parent(KEYS[3], ARGV[i], state)
  end
end
redis.call('HSET', KEYS[3], 'need', ARGV[3], 'policy', ARGV[4], 'dest', ARGV[5], 'ms', ARGV[6])
redis.call('PERSIST', KEYS[3])
redis.call('ZADD', KEYS[1], now, id)
redis.call('HSET', KEYS[2], id, record)
index_tags(flow_base(KEYS[2], ':jobs'), record, now)
return settle(id, now)
