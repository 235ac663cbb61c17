--[[ wake_waiters.lua — a slot of a queue's running limit may have freed:
wake the workers waiting for one.

fetch_limited.lua sets the waiter flag P:{Q}:slotwait when it finds the
queue at its running limit (in the same step, so a slot freed before that
fetch was seen by it). A worker that ended jobs of a queue with flow
limits sends this right after the ending script (ack, retry, bury, … in
the same pipelined round trip; after a reclaim, hand-back or expiry): when
the flag exists it is deleted and `w` published on the queue's events
channel, so every waiting worker asks again at once instead of after its
recheck interval; the exact count is decided again by fetch_limited.lua.
Queues without limits never send it, so they pay nothing.

Called by: store/ops/wake_waiters.rs, from store/completion.rs (the
outcome writer's batches, jobqueue-worker/src/loops/outcome_writer.rs, and
the inline worker) and the worker's reaper, hand-back and expiry paths for
queues with flow limits.

KEYS[1]  P:{Q}:slotwait  string  present while a worker waits for a slot
ARGV[1]  P:{Q}:events    the queue's events channel

Returns: 1 when waiting workers were woken, else 0.
]]
if redis.call('DEL', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[1], 'w')
  return 1
end
return 0
