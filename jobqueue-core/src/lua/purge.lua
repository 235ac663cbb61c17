--[[ purge.lua — operator action: drop every ready job of a queue, one
page per call, counting the jobs of batches as cancelled in their batch
and dropping the durable memos of the jobs it drops.

The first call (ARGV[2] = 1) takes the whole ready list and priority set
aside at once (RENAME to P:{Q}:purging and P:{Q}:purging:priority, O(1)
however many jobs they hold); every call then drops one page: from the
head of P:{Q}:purging, then the lowest of P:{Q}:purging:priority. For
each job dropped, in the same step:

* a job of a batch is counted `cancelled` and no longer `pending` in its
  batch (batch_job_cancelled in include/batch.lua), so its batch can
  complete; the callbacks that completion enqueues go to the fresh ready
  list, never to the keys being purged;
* its durable memo P:{Q}:steps:<id>, pending signals and sleeping /
  signal_wait index entries are deleted (drop_memos in include/flow.lua),
  so a purge leaves nothing to a TTL.

A record that is not a job record (a foreign producer's) is just dropped.
Jobs enqueued after the first call are not dropped. A purge interrupted
(the operator's process died) leaves P:{Q}:purging[:priority]: their jobs
never run, and the next purge drops (and counts) them first, before it
takes the ready list aside. Scheduled, retrying, active and dead jobs are
untouched.

Called by: store/ops/purge.rs, from Admin::purge (admin/queues.rs),
repeated while the reply says more is left, then purge_keyed.lua: the
operator, through the dashboard and JSON API
(jobqueue-dashboard/src/actions/queues.rs) or `jobqueue purge`
(jobqueue-cli/src/commands/queue_actions.rs).

KEYS[1]  P:{Q}:ready              list
KEYS[2]  P:{Q}:priority           zset
KEYS[3]  P:{Q}:purging            list  the ready jobs being purged
KEYS[4]  P:{Q}:purging:priority   zset  the prioritised jobs being purged
ARGV[1]  most jobs to drop in this call (≥ 1)
ARGV[2]  1 to take the ready list aside once nothing is left aside, else 0
ARGV[3]  P:{Q}:events             pub/sub channel (a batch callback became ready)

Returns: {jobs dropped by this call, 1 when the ready list was taken
aside by this call else 0, 1 when jobs are still aside else 0}
]]
local size = string.match(ARGV[1], '^[1-9]%d*$') and tonumber(ARGV[1])
if not size then
  return redis.error_reply('ERR jobqueue: purge takes a page size of at least 1')
end
local take = ARGV[2] == '1'
local base = flow_base(KEYS[1], ':ready')
local now = now_ms()
local took = 0
if take and redis.call('EXISTS', KEYS[3], KEYS[4]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[3]) end
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[4]) end
  took = 1
end
local page = redis.call('LRANGE', KEYS[3], 0, size - 1)
if #page > 0 then redis.call('LTRIM', KEYS[3], #page, -1) end
if #page < size then
  local popped = redis.call('ZPOPMIN', KEYS[4], size - #page)
  for i = 1, #popped, 2 do page[#page + 1] = popped[i] end
end
local ids = {}
for _, record in ipairs(page) do
  if is_record(record) then
    batch_job_cancelled(base, record, now, ARGV[3])
    ids[#ids + 1] = record_id(record)
  end
end
drop_memos(base, ids)
local more = 0
if redis.call('EXISTS', KEYS[3], KEYS[4]) > 0 then more = 1 end
return {#page, took, more}
