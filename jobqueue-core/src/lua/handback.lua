--[[ handback.lua — a worker returns leased jobs it will not finish.

Used by graceful shutdown (jobs still running when the grace period ends,
and fetched jobs not yet started). The jobs go back to the head of the
ready list (a keyed job: of its key's list, its key released) at once,
oldest first, without counting an attempt: they did not
fail, the worker is leaving. With release = 1 the worker also drops its
lease and returns anything else still in its active hash. A tracked job's
status (P:{Q}:status:<id>, named from the queue's base) becomes queued,
its progress marked stale (`return_leased`, include/flow.lua).

Called by: store/ops/handback.rs, from the worker's graceful shutdown
(jobqueue-worker/src/worker/shutdown.rs, release = 1), the fetcher as it
stops, for prefetched jobs that never started
(jobqueue-worker/src/loops/fetcher.rs), the reconciliation of the active
hash with the jobs the worker holds (`reconcile` in
jobqueue-worker/src/loops/fetch_round.rs), and the inline worker when it
finishes (jobqueue-worker/src/inline.rs, release = 1).

KEYS[1]  P:{Q}:active:<wid> hash
KEYS[2]  P:{Q}:ready        list
KEYS[3]  P:{Q}:leases       zset
ARGV[1]  worker id
ARGV[2]  P:{Q}:events       pub/sub channel
ARGV[3]  release: '1' to drop the lease and return everything, else '0'
ARGV[4…] job ids to return

Returns: number of jobs handed back.
]]
local records = {}
if ARGV[3] == '1' then
  records = redis.call('HVALS', KEYS[1])
elseif #ARGV >= 4 then
  local found = redis.call('HMGET', KEYS[1], unpack(ARGV, 4))
  for i = 1, #found do
    if found[i] then records[#records + 1] = found[i] end
  end
  if #records > 0 then
    local ids = {}
    for i = 1, #records do ids[i] = record_id(records[i]) end
    redis.call('HDEL', KEYS[1], unpack(ids))
  end
end
if #records > 0 then
  table.sort(records)
  return_leased(KEYS[2], records)
  redis.call('PUBLISH', ARGV[2], 'r')
end
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return #records
