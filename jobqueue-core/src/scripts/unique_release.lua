--[[ unique_release.lua — release unique-job locks held by finished jobs.

Deletes each lock only while it still names the job that finished: a lock
that expired and was taken by a newer job, or handed over by replace, is
left to its new holder.

KEYS[1…] P:{Q}:unique:<digest> strings
ARGV[i]  the job id that holds KEYS[i]

Returns: how many locks were released.
]]
local released = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then
    redis.call('DEL', KEYS[i])
    released = released + 1
  end
end
return released
