--[[ enqueue.lua — make one new job ready to run, waking idle workers.

Appends the record to the queue's ready list (FIFO). When the list was
empty before, idle workers are woken with one PUBLISH from inside Redis, so
the wake-up leaves before the producer even has its reply: a job enqueued
into an idle queue starts one round trip sooner than with RPUSH followed by
a separate PUBLISH. A busy queue costs no publish.

Bulk enqueues use a plain pipelined RPUSH instead (docs/protocol.md): their
latency is dominated by the batch, and Redis does less work per job.

KEYS[1]  P:{Q}:ready     list
ARGV[1]  P:{Q}:events    pub/sub channel
ARGV[2]  the job record (`{"id":"<uuid>",…}\n<payload>`)

Returns: the ready list's new length.
Errors:  `ERR jobqueue: …` when the argument is not a job record (nothing is written).
]]
if not is_record(ARGV[2]) then
  return redis.error_reply('ERR jobqueue: the argument is not a job record')
end
local length = redis.call('RPUSH', KEYS[1], ARGV[2])
if length == 1 then
  redis.call('PUBLISH', ARGV[1], 'r')
end
return length
