--[[ alert_lease.lua — take or keep the alert evaluators' leader lease.

Every dashboard process with alert rules runs an evaluator, and exactly
one of them evaluates: the holder of this lease. Each evaluator calls this
script once per evaluation interval. The holder renews its lease (only the
holder can: the compare is on its id); anyone else gets it only once the
key is gone, that is when the holder stopped renewing for a whole lease
(it died, hung or lost Redis). So a dead leader is replaced within one
lease, and two processes never both hold a live lease.

Called by: store/ops/alert_lease.rs, from Admin::alert_lease
(admin/alerts.rs), each interval of a dashboard's alert evaluator
(jobqueue-dashboard/src/alerts/leader.rs).

KEYS[1]  P:{alerts}:leader  string  the holder's id (PX the lease)
ARGV[1]  the caller's id (random per evaluator)
ARGV[2]  lease length, ms

Time: the key's expiry, kept by Redis (one clock for every process).

Returns: 1 when the caller holds the lease now (renewed or taken), 0 when
         another evaluator holds it.
]]
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
