--[[ purge.lua — operator action: drop every ready job of a queue, one
page per call, counting the jobs of batches as cancelled in their batch.

The first call (ARGV[2] = 1) takes the whole ready list aside at once
(RENAME to P:{Q}:purging, O(1)) and UNLINKs the priority set (no job of
a batch is ever in it: batch jobs have no priority); every call then
drops one page from the head of P:{Q}:purging. A job of a batch dropped
here is counted `cancelled` and no longer `pending` in its batch in the
same step (batch_job_cancelled in include/batch.lua), so its batch can
complete; the callbacks that completion enqueues go to the fresh ready
list, never to the list being purged. Jobs enqueued after the first call
are not dropped. A purge interrupted (operator's process died) leaves
P:{Q}:purging: its jobs never run, and the next purge drops (and counts)
them first, before it takes the ready list aside. Scheduled, retrying,
active and dead jobs are untouched.

Called by: store/ops/purge.rs, from Admin::purge (admin/queues.rs),
repeated while the reply says more is left, then purge_keyed.lua: the
operator, through the dashboard and JSON API
(jobqueue-dashboard/src/actions/queues.rs) or `jobqueue purge`
(jobqueue-cli/src/commands/queue_actions.rs).

KEYS[1]  P:{Q}:ready     list
KEYS[2]  P:{Q}:priority  zset
KEYS[3]  P:{Q}:purging   list  the ready jobs being purged
ARGV[1]  most jobs to drop from P:{Q}:purging in this call
ARGV[2]  1 to take the ready list aside once P:{Q}:purging is empty, else 0
ARGV[3]  P:{Q}:events    pub/sub channel (a batch callback became ready)

Returns: {jobs dropped by this call, 1 when the ready list was taken
aside by this call else 0, 1 when P:{Q}:purging is not empty yet else 0}
]]
local size, take = tonumber(ARGV[1]), ARGV[2] == '1'
local base = flow_base(KEYS[1], ':ready')
local now = now_ms()
local dropped, took = 0, 0
if take and redis.call('EXISTS', KEYS[3]) == 0 then
  dropped = redis.call('ZCARD', KEYS[2])
  redis.call('UNLINK', KEYS[2])
  if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[3]) end
  took = 1
end
local page = redis.call('LRANGE', KEYS[3], 0, size - 1)
if #page > 0 then
  redis.call('LTRIM', KEYS[3], #page, -1)
  for _, record in ipairs(page) do
    batch_job_cancelled(base, record, now, ARGV[3])
  end
  dropped = dropped + #page
end
local more = 0
if redis.call('EXISTS', KEYS[3]) == 1 then more = 1 end
return {dropped, took, more}
