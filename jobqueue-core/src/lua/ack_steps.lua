--[[ ack_steps.lua — a worker finished durable jobs (jobs that used steps,
sleeps or signals) successfully: drop them and their memos.

As ack.lua for each job still leased by this worker: removed from the
active hash and counted as `processed` (count_ended in include/lib.lua);
in the same step its memo P:{Q}:steps:<id> and its pending signals
P:{Q}:signals:<id> are deleted. A job no longer leased here (its lease
lapsed, it runs again elsewhere) keeps its memo: the next run needs it. A
keyed job's flow key is released and a unique job's lock freed from its
record (as ack_parents.lua). Plain jobs never come here: ack.lua stays as
it is.

Called by: store/ops/ack_steps.rs, packed by store/completion.rs for the
durable jobs in a worker's batch of successes (the worker knows a run used
its memo: jobqueue-worker/src/run/runner.rs): the outcome writer
(jobqueue-worker/src/loops/outcome_writer.rs) or the inline worker.

KEYS[1]      P:{Q}:active:<wid>    hash
KEYS[2]      P:{Q}:stats           hash
KEYS[1+2i]   P:{Q}:steps:<id>      hash, the memo of ARGV[i]
KEYS[2+2i]   P:{Q}:signals:<id>    hash, the pending signals of ARGV[i]
ARGV[…]      job ids

Watched as ack.lua (include/observe.lua).

Returns: how many of the jobs were still leased by this worker.
]]
local now = now_ms()
local acked = 0
local records, left = redis.call('HMGET', KEYS[1], unpack(ARGV)), {}
local base = flow_base(KEYS[2], ':stats')
local watch = observe_leaving(base, KEYS[1], ARGV, records)
for i = 1, #ARGV do
  if records[i] and redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    left[#left + 1] = records[i]
    acked = acked + 1
    local steps_key, signals_key = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
    redis.call('DEL', steps_key, signals_key)
  end
end
flow_leave(base, left)
for _, record in ipairs(left) do release_unique(base, record) end
count_ended(KEYS[2], 'processed', acked, now)
observe_left(watch, 'succeeded', 1, now)
return acked
