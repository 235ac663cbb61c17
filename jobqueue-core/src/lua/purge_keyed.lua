--[[ purge_keyed.lua — operator action: drop waiting keyed jobs, at most
ARGV[1] per call (the caller repeats while the reply says more may wait),
so purging many keyed jobs never blocks Redis for long. Each dropped
job's durable memo goes with its record (drop_memos in include/flow.lua).

Every key with waiting jobs is in P:{Q}:gready or, while at its running
limit, in P:{Q}:grun (which holds only keys with leased jobs, so it stays
as small as the jobs running). Leased keyed jobs are untouched.

Called by: store/ops/purge_keyed.rs, from Admin::purge (admin/queues.rs)
after purge.lua, repeated while the reply says more may wait: the
operator, as for purge.lua.

KEYS[1]  P:{Q}:gready zset
KEYS[2]  P:{Q}:grun   hash
KEYS[3]  P:{Q}:jobs   hash
ARGV[1]  most jobs to drop in this call

Returns: {dropped, 1 when more may wait else 0}
]]
local budget = tonumber(ARGV[1])
local base = flow_base(KEYS[1], ':gready')
local keys = redis.call('ZRANGE', KEYS[1], 0, budget - 1)
for _, key in ipairs(redis.call('HKEYS', KEYS[2])) do keys[#keys + 1] = key end
local dropped = 0
for _, key in ipairs(keys) do
  if dropped >= budget then break end
  local ids = redis.call('LRANGE', queue_key(base, ':g:' .. key), 0, budget - dropped - 1)
  if #ids > 0 then
    redis.call('HDEL', KEYS[3], unpack(ids))
    drop_memos(base, ids)
    redis.call('LTRIM', queue_key(base, ':g:' .. key), #ids, -1)
    dropped = dropped + #ids
  end
  flow_forget_if_idle(base, key)
end
flow_taken(base, dropped)
if dropped >= budget then return {dropped, 1} end
return {dropped, 0}
