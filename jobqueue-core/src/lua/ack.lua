--[[ ack.lua — a worker finished jobs successfully: drop them.

Only jobs still leased by this worker are removed. A job missing from the
active hash was reclaimed after this worker's lease lapsed; it is already
back in the queue (or running elsewhere), so nothing is touched.

Unique jobs come first, each with its uniqueness lock as a key: the lock
is released (only while it still names the job: a lock that expired and
was taken by a newer job, or handed over by replace, is left alone) when
the job's acknowledgement is recorded here, in the same step.

The jobs removed are counted as `processed` in the queue's counters and
time buckets (count_ended in include/lib.lua), once per call.

Called by: store/ops/ack.rs, packed by store/completion.rs into the
batch a worker writes once jobs succeeded: the outcome writer
(jobqueue-worker/src/loops/outcome_writer.rs) or the inline worker
(jobqueue-worker/src/inline.rs).

KEYS[1]     P:{Q}:active:<wid> hash
KEYS[2]     P:{Q}:stats        hash
KEYS[2+i]   P:{Q}:unique:<digest> string, the lock of ARGV[i]
ARGV[…]     job ids: the #KEYS-2 unique ones first, then the others

When the queue's event stream or history is on (include/observe.lua),
a `succeeded` entry goes to the stream, and with the history on the jobs
still leased are read before they are dropped, for their history
entries.

Returns: {how many of the ids were still leased by this worker,
          how many locks were released}.

Costs a fixed number of commands per call, not per job: one HMGET and one
MGET to see which unique jobs are still leased and still hold their locks,
one DEL for those locks, one HDEL for every id, and the counters (TIME and
five commands).
]]
local unique = #KEYS - 2
local released = 0
if unique > 0 then
  local leased = redis.call('HMGET', KEYS[1], unpack(ARGV, 1, unique))
  local holders = redis.call('MGET', unpack(KEYS, 3))
  local lock_keys = {}
  for i = 1, unique do
    if leased[i] and holders[i] == ARGV[i] then
      lock_keys[#lock_keys + 1] = KEYS[i + 2]
    end
  end
  if #lock_keys > 0 then
    released = redis.call('DEL', unpack(lock_keys))
  end
end
if #ARGV == 0 then
  return {0, released}
end
local watch = observe_leaving(flow_base(KEYS[2], ':stats'), KEYS[1], ARGV)
local acked = redis.call('HDEL', KEYS[1], unpack(ARGV))
local now = now_ms()
count_ended(KEYS[2], 'processed', acked, now)
observe_left(watch, 'succeeded', 1, now, nil, acked)
return {acked, released}
