--[[ purge_memos.lua — operator action, after purge.lua: drops the durable
memos of up to ARGV[1] purged jobs per call (the caller repeats while the
reply says more may wait), so a purge leaves no memo to its TTL and never
blocks Redis for long.

purge.lua moved the queue's ready list and priority set to the purge's
keys in one step; this pops a page of their records (the list first, then
the set) and drops each job's memo P:{Q}:steps:<id>, pending signals
P:{Q}:signals:<id> and sleeping / signal_wait index entries (drop_memos
in include/flow.lua: one DEL per job, of keys that mostly do not exist).
A record that is not a job record (a foreign producer's) has no memo and
is just dropped. When both keys are empty they are gone (Redis deletes
empty lists and sets), so a repeated call finds nothing.

Called by: store/ops/purge_memos.rs, from Admin::purge (admin/queues.rs)
after purge.lua: the operator, as for purge.lua.

KEYS[1]  P:{Q}:purging:<token>           list  purged ready records
KEYS[2]  P:{Q}:purging:<token>:priority  zset  purged prioritised records
KEYS[3]  P:{Q}:jobs                      hash  (names the queue's base
         P:{Q}, from which the memo keys are built: same hash tag)
ARGV[1]  most jobs to handle in this call (≥ 1)

Returns: {jobs handled, 1 when more may wait else 0}
]]
local budget = string.match(ARGV[1], '^[1-9]%d*$') and tonumber(ARGV[1])
if not budget then
  return redis.error_reply('ERR jobqueue: purge_memos takes a page size of at least 1')
end
local base = flow_base(KEYS[3], ':jobs')
local records = redis.call('LPOP', KEYS[1], budget) or {}
if #records < budget then
  local popped = redis.call('ZPOPMIN', KEYS[2], budget - #records)
  for i = 1, #popped, 2 do records[#records + 1] = popped[i] end
end
local ids = {}
for _, record in ipairs(records) do
  if is_record(record) then ids[#ids + 1] = record_id(record) end
end
drop_memos(base, ids)
if #records >= budget then return {#records, 1} end
return {#records, 0}
