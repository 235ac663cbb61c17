--[[ enqueue_priority.lua — make new jobs with a priority ready to run.

Adds the records to the queue's priority set, scored so that a job with
priority p is ordered as if it had become ready p × PRIORITY_STEP_MS earlier
(higher first, and a low priority waits a bounded time, never forever).
Wakes idle workers when the queue had nothing ready before. Tagged jobs
(plain or not) come here too: their tags are indexed in the same step
(`P:{Q}:tag:<tag>`, include/tags.lua).

Called by: store/ops/enqueue_priority.rs, when a producer enqueues a
job that runs now with a priority or a flow key: one job
(client/send.rs) or a batch (client/bulk.rs through store/enqueue.rs).
Plain jobs that run now take no script: `RPUSH` (store/enqueue.rs).

KEYS[1]  P:{Q}:ready     list
KEYS[2]  P:{Q}:priority  zset
ARGV[1]  P:{Q}:events    pub/sub channel
ARGV[2…] job records whose envelope carries a non-zero "priority", a flow
         key or tags

Also writes (from KEYS[1]'s base): P:{Q}:tag:<tag> zset, the tag index.

Returns: the priority set's new size.
]]
local now = now_ms()
local was_idle = redis.call('LLEN', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0
for i = 2, #ARGV do
  if not is_record(ARGV[i]) then
    return redis.error_reply('ERR jobqueue: argument ' .. i .. ' is not a job record')
  end
end
local records = {unpack(ARGV, 2)}
make_ready_all(KEYS[1], KEYS[2], records, now)
index_tags_all(flow_base(KEYS[1], ':ready'), records, now)
if was_idle then
  redis.call('PUBLISH', ARGV[1], 'r')
end
return redis.call('ZCARD', KEYS[2])
