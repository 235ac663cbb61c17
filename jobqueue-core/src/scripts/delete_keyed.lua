--[[ delete_keyed.lua — operator action: delete keyed jobs waiting in their
flow keys' lists.

Each job's record (in the jobs hash) names its key; the job is deleted only
if its id is still in that key's list (otherwise it was leased, finished or
is filed elsewhere, and is left alone). A key whose list empties leaves
P:{Q}:gready.

KEYS[1]  P:{Q}:jobs hash
ARGV[…]  job ids

Returns: number of jobs deleted.
]]
local base = flow_base(KEYS[1], ':jobs')
local deleted = 0
for i = 1, #ARGV do
  local record = redis.call('HGET', KEYS[1], ARGV[i])
  local key = record and record_flow(record)
  if key and redis.call('LREM', queue_key(base, ':g:' .. key), 1, ARGV[i]) == 1 then
    redis.call('HDEL', KEYS[1], ARGV[i])
    flow_forget_if_idle(base, key)
    deleted = deleted + 1
  end
end
flow_taken(base, deleted)
return deleted
