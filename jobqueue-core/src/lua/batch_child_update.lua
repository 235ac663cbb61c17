--[[ batch_child_update.lua — a parent batch learns that one of its child
batches ended (`succeeded`, `dead`, `cancelled`) or is open again
(`pending`, its dead jobs retried).

The child files each change in its own queue's release outbox (entry
`b|<child id>|<outcome>|<generation>`, include/batch.lua); the entry is
applied here, on the parent's queue, by whoever sweeps the outbox
(store/releases.rs), and removed only after. The parent's `child:<id>`
field keeps the newest generation applied: an entry that is not newer
(a repeat, or an older one applied late) changes nothing, so an entry
may be applied any number of times, in any order, and the parent always
ends up counting the child's latest outcome once. A change moves the
child's unit like a job of the parent: pending → ended counts it
(`succeeded`, `dead` with on_death at the first death, or `cancelled`)
and may complete the parent (its callbacks fire once, include/batch.lua);
ended → pending counts it pending again and opens a finished parent
(which tells its own parent in turn); ended → another end (a reopening
not seen) moves the count.

Called by: store/ops/batch_child_update.rs, whose call
store/releases.rs (Store::apply_releases) makes for the `b|` entries of a
child queue's outbox, from the workers' reaper sweep
(jobqueue-worker/src/loops/reaper.rs).

KEYS[1]  P:{Q}:batch:<parent id> hash
KEYS[2]  P:{Q}:ready             list (callbacks go here)
ARGV[1]  P:{Q}:events            pub/sub channel
ARGV[2]  child batch id
ARGV[3]  outcome: succeeded | dead | cancelled | pending
ARGV[4]  generation of the entry

Returns: 'applied', 'repeat' (not newer), or 'absent' (the parent is
gone, or never linked this child).
]]
local child, outcome, generation = ARGV[2], ARGV[3], tonumber(ARGV[4])
local counted = {succeeded = 'succeeded', dead = 'dead', cancelled = 'cancelled'}
if outcome ~= 'pending' and not counted[outcome] then
  return redis.error_reply('ERR batch_child_update: unknown outcome ' .. outcome)
end
local field = 'child:' .. child
local seen = redis.call('HGET', KEYS[1], field)
if not seen then return 'absent' end
local seen_generation, seen_outcome, child_queue = string.match(seen, '^(%d+)|(%a+)|(.*)$')
if not seen_generation or generation <= tonumber(seen_generation) then return 'repeat' end
redis.call('HSET', KEYS[1], field, generation .. '|' .. outcome .. '|' .. child_queue)
if outcome == seen_outcome then return 'applied' end
local now = now_ms()
local fired = 0
if seen_outcome == 'pending' then
  fired = batch_ended(KEYS[1], KEYS[2], counted[outcome], 1, now)
elseif outcome == 'pending' then
  redis.call('HINCRBY', KEYS[1], seen_outcome, -1)
  redis.call('HINCRBY', KEYS[1], 'pending', 1)
  batch_reopen(KEYS[1], now)
else
  redis.call('HINCRBY', KEYS[1], seen_outcome, -1)
  redis.call('HINCRBY', KEYS[1], outcome, 1)
  if outcome == 'dead' then fired = batch_fire(KEYS[1], KEYS[2], 'death', now) end
  fired = fired + batch_settle(KEYS[1], KEYS[2], now)
end
if fired > 0 then redis.call('PUBLISH', ARGV[1], 'r') end
return 'applied'
