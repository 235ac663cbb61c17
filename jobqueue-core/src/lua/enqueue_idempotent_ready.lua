--[[ enqueue_idempotent_ready.lua — enqueue one plain job that runs now under
an idempotency key: at most one job per key within the key's window, even
after that job finished; the single-enqueue fast path of
enqueue_idempotent.lua.

The same guarantee as enqueue_idempotent.lua, for the commonest single
enqueue: one job, which runs now, without priority or flow key (what a
plain enqueue appends with RPUSH), whose id was generated (a fresh UUID no
other job can hold, so it has no id marker). One `SET … NX PX … GET`
claims the key's marker P:{Q}:idem:<sha256 of the key> =
`<job id> <content digest>` for the window, or returns the marker another
enqueue set — then nothing is written and the answer is 'exists' (same
type and payload) or 'conflict', with the original job's id, also after
that job finished. Otherwise the record is appended to the ready list in
the same step and, when the list was empty, idle workers are woken
(PUBLISH 'r', as a plain enqueue's producer does).

It takes only include/lib.lua: everything else (priority, flow keys,
schedules, given ids, batches) goes through enqueue_idempotent.lua, so
this script defines no helper it cannot use (docs/benchmarks.md,
"Idempotent single enqueue").

Called by: store/ops/enqueue_idempotent_ready.rs, through
Store::enqueue_idempotent (store/enqueue.rs) from client/send.rs, over
the producer's direct lane when it is free.

KEYS[1]  P:{Q}:ready         list  records, FIFO
KEYS[2]  P:{Q}:idem:<sha256> string  the key's marker
ARGV[1]  P:{Q}:events        pub/sub channel
ARGV[2]  the record (a job that runs now, no priority, no flow key)
ARGV[3]  the key's window, whole ms (≥ 1)
ARGV[4]  the content digest: SHA-1 (40 lowercase hex digits) of
         `<type>\n<payload>`

Returns: {status, job id} — 'enqueued' (its own id), or 'exists' /
         'conflict' (the id of the job holding the key).
]]
if #KEYS ~= 2 or #ARGV ~= 4 then
  return redis.error_reply('ERR jobqueue: enqueue_idempotent_ready takes two keys and four arguments')
end
local record, digest = ARGV[2], ARGV[4]
if not is_record(record) then
  return redis.error_reply('ERR jobqueue: argument 2 is not a job record')
end
if not string.match(ARGV[3], '^[1-9]%d*$') then
  return redis.error_reply('ERR jobqueue: the key window must be whole ms (at least 1)')
end
if #digest ~= 40 or string.match(digest, '[^0-9a-f]') then
  return redis.error_reply('ERR jobqueue: the content digest must be 40 lowercase hex digits')
end
local id = record_id(record)
local held = redis.call('SET', KEYS[2], id .. ' ' .. digest, 'NX', 'PX', ARGV[3], 'GET')
if held then
  local status, original = held_key_answer(held, digest)
  return {status, original}
end
if redis.call('RPUSH', KEYS[1], record) == 1 then
  redis.call('PUBLISH', ARGV[1], 'r')
end
return {'enqueued', id}
