--[[ ack_keyed.lua — ack.lua for a batch with keyed jobs: drop them and
release their flow keys.

Like ack.lua, only jobs still leased by this worker are removed. Each
removed job that carries a flow key releases it (one fewer running, ready
again if jobs wait; see lib_flow.lua). Workers use it only for batches
that hold keyed jobs, so plain acks stay one HDEL.

Unique jobs come first, each with its uniqueness lock as a key, released
as in ack.lua: only for a job still leased here whose lock still names it.

KEYS[1]     P:{Q}:active:<wid> hash
KEYS[2]     P:{Q}:gready       zset
KEYS[2+i]   P:{Q}:unique:<digest> string, the lock of ARGV[i]
ARGV[…]     job ids: the #KEYS-2 unique ones first, then the others

Returns: how many of the ids were still leased by this worker.
]]
local records = redis.call('HMGET', KEYS[1], unpack(ARGV))
local unique = #KEYS - 2
if unique > 0 then
  local holders = redis.call('MGET', unpack(KEYS, 3))
  local lock_keys = {}
  for i = 1, unique do
    if records[i] and holders[i] == ARGV[i] then
      lock_keys[#lock_keys + 1] = KEYS[2 + i]
    end
  end
  if #lock_keys > 0 then
    redis.call('DEL', unpack(lock_keys))
  end
end
local removed = redis.call('HDEL', KEYS[1], unpack(ARGV))
flow_leave(flow_base(KEYS[2], ':gready'), records)
return removed
