--[[ bury_batch.lua — jobs of one batch will not run again: they go to the
dead set (as bury.lua) and are counted in their batch, in the same step.

Only the jobs this worker still held are buried and counted (`dead` + n,
`pending` - n), and each dead id is remembered in the batch hash
(`dead:<id>`) for batch_retry_dead.lua, until the dead-set trim drops the
job (count_buried forgets it there: the fields are bounded by the dead
set). At the batch's first death its
on_death callback is enqueued; when no job is pending any more its
on_complete (on_success never, while a job is dead) — see include/batch.lua.
Filing, trimming and counting are bury_leased and count_buried
(include/flow.lua), shared with bury.lua.

Called by: store/ops/bury_batch.rs, packed by store/completion.rs for the
jobs of a worker's batch of deaths that carry a batch id: the outcome
writer (jobqueue-worker/src/loops/outcome_writer.rs) or the inline
worker (jobqueue-worker/src/inline.rs).

KEYS[1]  P:{Q}:active:<wid> hash
KEYS[2]  P:{Q}:dead         zset  id → died-at ms
KEYS[3]  P:{Q}:jobs         hash
KEYS[4]  P:{Q}:stats        hash
KEYS[5]  P:{Q}:ready        list (callbacks go here)
KEYS[6]  P:{Q}:batch:<bid>  hash, the batch of every job
ARGV[1]  most dead jobs kept
ARGV[2]  most age of a dead job, ms
ARGV[3]  P:{Q}:events       pub/sub channel
ARGV[4…] triples: id as leased, id in the dead set, final record

Returns: {buried, trimmed, callbacks enqueued, outbox entry…}: the
entry a child batch completed here filed for its parent, applied by the
caller at once (as ack_batch.lua).

Watched as bury.lua (include/observe.lua).
]]
local now = now_ms()
local leased, leased_ids, buried, twins = bury_leased(KEYS[1], KEYS[2], KEYS[3], ARGV, 4, now)
local in_batch = buried > 0 and redis.call('EXISTS', KEYS[6]) == 1
if in_batch then
  -- remembered before the trim below, which forgets the ones it drops
  local dead_fields = {}
  for n = 1, #leased_ids do
    if leased[n] then
      dead_fields[#dead_fields + 1] = 'dead:' .. ARGV[4 + (n - 1) * 3 + 1]
      dead_fields[#dead_fields + 1] = 1
    end
  end
  redis.call('HSET', KEYS[6], unpack(dead_fields))
end
local trimmed = count_buried(KEYS[2], KEYS[3], KEYS[4], buried, twins,
  tonumber(ARGV[1]), tonumber(ARGV[2]), now)
observe_buried(flow_base(KEYS[2], ':dead'), leased, leased_ids, ARGV, 4, now)
local fired = 0
if in_batch then fired = batch_ended(KEYS[6], KEYS[5], 'dead', buried, now) end
if fired > 0 then redis.call('PUBLISH', ARGV[3], 'r') end
return {buried, trimmed, fired, unpack(batch_told)}
