--[[ unique_release.lua — release the uniqueness locks of jobs that ended
outside ack.lua and ack_keyed.lua (dead, cancelled, parents that
succeeded), after the script that recorded the end, in the same round trip.

A lock is deleted only when both hold:

* it still names the job (a lock that expired and was taken by a newer
  job, or handed over by replace, is left to its new holder);
* the job's end is on record, so a worker whose lease lapsed (its job was
  reclaimed and runs again elsewhere) cannot free the key of a job that
  is still live: `in_set` — the job is in the given sorted set (the dead
  or cancelled set); `ended` — the given parent hash says the job
  succeeded or failed.

KEYS[i]     P:{Q}:unique:<digest> string, i = 1..n (n = #KEYS / 2)
KEYS[n+i]   the proof of lock i's job's end: a zset, or a parent hash
ARGV[i]     the job id that holds KEYS[i]
ARGV[n+i]   'in_set' | 'ended'

Returns: how many locks were released.

One MGET and at most one DEL per call, plus one lookup per lock that
still names its job.
]]
local n = #KEYS / 2
if n ~= math.floor(n) or #ARGV ~= #KEYS then
  return redis.error_reply('ERR jobqueue: unique_release takes a proof key and kind per lock')
end
local holders = redis.call('MGET', unpack(KEYS, 1, n))
local lock_keys = {}
for i = 1, n do
  if holders[i] == ARGV[i] then
    local proof_key, kind, ended = KEYS[n + i], ARGV[n + i], false
    if kind == 'in_set' then
      ended = redis.call('ZSCORE', proof_key, ARGV[i]) ~= false
    elseif kind == 'ended' then
      local state = redis.call('HGET', proof_key, 'state')
      ended = state == 'succeeded' or state == 'failed'
    end
    if ended then
      lock_keys[#lock_keys + 1] = KEYS[i]
    end
  end
end
if #lock_keys == 0 then
  return 0
end
return redis.call('DEL', unpack(lock_keys))
