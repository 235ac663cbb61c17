--[[ unique_release.lua — release unique-job locks held by finished jobs.

Deletes each lock only while it still names the job that finished: a lock
that expired and was taken by a newer job, or handed over by replace, is
left to its new holder.

KEYS[1…] P:{Q}:unique:<digest> strings
ARGV[i]  the job id that holds KEYS[i]

Returns: how many locks were released.

One MGET and at most one DEL per call, however many locks.
]]
local holders = redis.call('MGET', unpack(KEYS))
local lock_keys = {}
for i = 1, #KEYS do
  if holders[i] == ARGV[i] then
    lock_keys[#lock_keys + 1] = KEYS[i]
  end
end
if #lock_keys == 0 then
  return 0
end
return redis.call('DEL', unpack(lock_keys))
