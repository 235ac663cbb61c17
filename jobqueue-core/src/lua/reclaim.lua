--[[ reclaim.lua — put a lapsed worker's jobs back in the queue.

If the worker's lease is still alive (renewed since it was seen lapsed),
nothing happens. Otherwise every job in its active hash goes back to the
head of the ready list (a keyed job: of its key's list, its key
released), oldest first, with one more attempt counted (and counted
in the queue's `reclaimed` counter), and the lease and the active hash
are deleted — atomically, so two processes reclaiming the same worker
cannot both move its jobs: the second finds nothing. A worker that comes back finds its lease gone (heartbeat.lua
returns 0) and its acks no-ops (ack.lua), so a job is never in two places.

Called by: store/ops/reclaim.rs, from the worker's reaper
(jobqueue-worker/src/loops/reaper.rs) for each worker whose lease lapsed
(expired_leases.lua): every live worker reaps the others, every
`reap_interval`, on its housekeeping thread.

KEYS[1]  P:{Q}:leases       zset
KEYS[2]  P:{Q}:active:<wid> hash
KEYS[3]  P:{Q}:ready        list
KEYS[4]  P:{Q}:stats        hash
ARGV[1]  worker id
ARGV[2]  P:{Q}:events       pub/sub channel

Returns: number of jobs put back, or -1 when the lease is alive.
]]
local deadline = redis.call('ZSCORE', KEYS[1], ARGV[1])
if deadline and tonumber(deadline) >= now_ms() then
  return -1
end
local records = redis.call('HVALS', KEYS[2])
if #records > 0 then
  -- Ids are UUID v7, so sorting records sorts by enqueue time.
  table.sort(records)
  for i = 1, #records do records[i] = bump_attempt(records[i]) end
  return_leased(KEYS[3], records)
  redis.call('HINCRBY', KEYS[4], 'reclaimed', #records)
  redis.call('PUBLISH', ARGV[2], 'r')
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return #records
