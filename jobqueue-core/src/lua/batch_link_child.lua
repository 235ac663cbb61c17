--[[ batch_link_child.lua — a child batch joins its parent as one job.

Runs on the parent's queue, after batch_open.lua created the child (held,
naming this parent) on its own queue, and before the child gets any job:
the parent counts the child as one pending job (`total` + 1, `pending` +
1) and remembers it in `child:<child id>` = `<generation>|<outcome>|<child
queue>` (generation 0, outcome `pending`), which batch_child_update.lua
moves on as the child ends or opens again. Allowed when batch_add.lua
would add a job: the parent is open and held by its producer or has a
pending job (a running job of the parent creating a child is pending).
A held parent's open timeout is renewed, as by batch_add.lua.
Idempotent: linking a child already linked counts nothing, so a producer
may repeat the call after an ambiguous error.

Called by: store/ops/batch_link_child.rs, from BatchBuilder::create /
enqueue of a batch with a parent (jobqueue-core/src/client/batch.rs).

KEYS[1]  P:{Q}:batch:<parent id> hash
ARGV[1]  child batch id
ARGV[2]  child batch's queue

Returns: 1 linked now, 0 linked already, -1 no such parent (or its
retention is over), -2 the parent is complete or cancelled.
]]
local v = redis.call('HMGET', KEYS[1], 'state', 'pending', 'holds', 'open_timeout_ms', 'parent')
if not v[1] then return -1 end
local field = 'child:' .. ARGV[1]
if redis.call('HEXISTS', KEYS[1], field) == 1 then return 0 end
if v[1] ~= 'open' or ((tonumber(v[2]) or 0) <= 0 and (tonumber(v[3]) or 0) <= 0) then
  return -2
end
batch_renew_hold(KEYS[1], v[3], v[4], v[5])
redis.call('HINCRBY', KEYS[1], 'total', 1)
redis.call('HINCRBY', KEYS[1], 'pending', 1)
redis.call('HINCRBY', KEYS[1], 'children', 1)
redis.call('HSET', KEYS[1], field, '0|pending|' .. ARGV[2])
return 1
