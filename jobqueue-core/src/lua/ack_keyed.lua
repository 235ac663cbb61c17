--[[ ack_keyed.lua — ack.lua for a batch with keyed jobs: drop them and
release their flow keys.

Like ack.lua, only jobs still leased by this worker are removed. Each
removed job that carries a flow key releases it (one fewer running, ready
again if jobs wait; see include/flow.lua). Workers use it only for batches
that hold keyed jobs, so plain acks stay one HDEL.

A unique job's lock is freed with it (release_unique in include/flow.lua:
only for jobs still leased here whose lock still names them).

The jobs removed are counted as `processed` (count_ended in include/lib.lua).

Called by: store/ops/ack_keyed.rs, packed by store/completion.rs instead
of ack.lua when a worker's batch of successes holds keyed jobs: the outcome writer
(jobqueue-worker/src/loops/outcome_writer.rs) or the inline worker
(jobqueue-worker/src/inline.rs).

KEYS[1]  P:{Q}:active:<wid> hash
KEYS[2]  P:{Q}:gready       zset
KEYS[3]  P:{Q}:stats        hash
ARGV[…]  job ids

Returns: how many of the ids were still leased by this worker.

Watched as ack.lua (include/observe.lua).
]]
local records = redis.call('HMGET', KEYS[1], unpack(ARGV))
local base = flow_base(KEYS[2], ':gready')
local watch = observe_leaving(base, KEYS[1], ARGV, records)
local removed = redis.call('HDEL', KEYS[1], unpack(ARGV))
flow_leave(base, records)
for i = 1, #ARGV do
  if records[i] then release_unique(base, records[i]) end
end
local now = now_ms()
count_ended(KEYS[3], 'processed', removed, now)
observe_left(watch, 'succeeded', 1, now)
return removed
