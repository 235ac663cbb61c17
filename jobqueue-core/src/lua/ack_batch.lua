--[[ ack_batch.lua — a worker finished jobs of one batch successfully:
drop them (as ack.lua) and count them in their batch, in the same step.

The HDEL from the worker's active hash returns how many of the ids this
worker still held: only those are counted (`succeeded` + n, `pending` - n),
so a job whose lease lapsed (reclaimed, running elsewhere) is counted by
whichever run ends it while leased, once. When the batch completes here
its callbacks are enqueued on the queue (batch_settle in
include/batch.lua) and idle workers woken. Counted as `processed` in the
queue's counters (count_ended in include/lib.lua).

Called by: store/ops/ack_batch.rs, packed by store/completion.rs for the
jobs of a worker's batch of successes that carry a batch id: the outcome
writer (jobqueue-worker/src/loops/outcome_writer.rs) or the inline worker
(jobqueue-worker/src/inline.rs).

KEYS[1]  P:{Q}:active:<wid> hash
KEYS[2]  P:{Q}:stats        hash
KEYS[3]  P:{Q}:ready        list (callbacks go here)
KEYS[4]  P:{Q}:batch:<bid>  hash, the batch of every id
ARGV[1]  P:{Q}:events       pub/sub channel
ARGV[2…] job ids

Watched as ack.lua (include/observe.lua).

Returns: {acked, callbacks enqueued, outbox entry…}: the entry a child
batch completed here filed for its parent (include/batch.lua), which the
caller applies at once (Store::apply_releases; the reaper's sweep does,
should the caller die first).
]]
local now = now_ms()
local ids = {unpack(ARGV, 2)}
local watch = observe_leaving(flow_base(KEYS[2], ':stats'), KEYS[1], ids)
local acked = redis.call('HDEL', KEYS[1], unpack(ids))
count_ended(KEYS[2], 'processed', acked, now)
observe_left(watch, 'succeeded', 1, now, nil, acked)
local fired = batch_ended(KEYS[4], KEYS[3], 'succeeded', acked, now)
if fired > 0 then redis.call('PUBLISH', ARGV[1], 'r') end
return {acked, fired, unpack(batch_told)}
