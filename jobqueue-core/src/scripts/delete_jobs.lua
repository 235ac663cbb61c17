--[[ delete_jobs.lua — operator action: delete scheduled, retrying or dead jobs.

KEYS[1]  P:{Q}:scheduled | P:{Q}:retry | P:{Q}:dead   zset
KEYS[2]  P:{Q}:jobs      hash
ARGV[…]  job ids

Returns: number of jobs deleted (ids not in the set are skipped).
]]
local deleted = 0
for i = 1, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('HDEL', KEYS[2], ARGV[i])
    deleted = deleted + 1
  end
end
return deleted
