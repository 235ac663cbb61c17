--[[ payload_swap.lua — replace records with re-encoded ones, each only if
it is still there unchanged (compare-and-set).

`jobqueue keys rotate` re-encrypts stored payloads under the active key:
it reads a page of records, re-encrypts them in its own process (keys
never reach Redis), and hands the pairs (old record, new record) to this
script. Each new record replaces its old one only where the old one still
is, byte for byte: a record a worker fetched, a script moved (promoted,
retried, buried) or an operator changed since it was read is left alone
and counted as not swapped; the next pass finds it where it went. The
swap keeps the record's place: its index in the ready list, its score in
the priority set, its id in the jobs hash.

Called by: store/ops/payload_swap.rs, from Admin::rotate_payload_keys
(admin/payload_rotation.rs), for `jobqueue keys rotate`
(jobqueue-cli/src/commands/payload_keys.rs).

KEYS[1]  P:{Q}:ready     list  records ready to run
KEYS[2]  P:{Q}:priority  zset  records with a priority or flow key
KEYS[3]  P:{Q}:jobs      hash  job id → record (scheduled, retry, dead, waiting, …)
ARGV[1]  where the records were read: `ready`, `priority` or `jobs`
ARGV[2k], ARGV[2k+1]  an old record and its replacement (k = 1, 2, …);
         both must carry the same job id

Edge case: a ready list holding the same record twice (a producer that
pushed one record twice) has its first copy swapped per pair; the second
is swapped by the next pass.

Returns: the number of records swapped.
]]
local where = ARGV[1]
local swapped = 0
for i = 2, #ARGV - 1, 2 do
  local old, new = ARGV[i], ARGV[i + 1]
  if not is_record(old) or not is_record(new) or record_id(old) ~= record_id(new) then
    return redis.error_reply('payload_swap: a pair does not carry one job id')
  end
  if where == 'ready' then
    local at = redis.call('LPOS', KEYS[1], old)
    if at then
      redis.call('LSET', KEYS[1], at, new)
      swapped = swapped + 1
    end
  elseif where == 'priority' then
    local score = redis.call('ZSCORE', KEYS[2], old)
    if score then
      redis.call('ZREM', KEYS[2], old)
      redis.call('ZADD', KEYS[2], score, new)
      swapped = swapped + 1
    end
  elseif where == 'jobs' then
    local id = record_id(old)
    if redis.call('HGET', KEYS[3], id) == old then
      redis.call('HSET', KEYS[3], id, new)
      swapped = swapped + 1
    end
  else
    return redis.error_reply('payload_swap: unknown place ' .. tostring(where))
  end
end
return swapped
