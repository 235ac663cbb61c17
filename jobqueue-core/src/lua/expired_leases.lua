--[[ expired_leases.lua — which workers' leases on a queue have lapsed.

Read-only. Lapsed means the deadline is before now on the Redis clock, so a
worker host with a wrong clock cannot make a live lease look expired.

Called by: store/ops/expired_leases.rs, from the worker's reaper
(jobqueue-worker/src/loops/reaper.rs) every `reap_interval`, before it
reclaims each lapsed worker's jobs (reclaim.lua).

KEYS[1]  P:{Q}:leases  zset  wid → lease deadline ms
ARGV[1]  most worker ids to return

Returns: worker ids.
]]
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ms_text(now_ms()), 'LIMIT', 0, tonumber(ARGV[1]))
