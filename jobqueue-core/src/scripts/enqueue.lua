--[[ enqueue.lua — make new jobs ready to run.

Appends the records to the queue's ready list in argument order (FIFO), all
or nothing. When the list was empty before, idle workers are woken with one
PUBLISH; a busy queue costs no publish.

KEYS[1]  P:{Q}:ready     list
ARGV[1]  P:{Q}:events    pub/sub channel
ARGV[2…] job records (`{"id":"<uuid>",…}\n<payload>`)

Returns: the ready list's new length.
Errors:  `ERR jobqueue: …` when an argument is not a job record (nothing is written).
]]
for i = 2, #ARGV do
  if not is_record(ARGV[i]) then
    return redis.error_reply('ERR jobqueue: argument ' .. i .. ' is not a job record')
  end
end
local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
if length == #ARGV - 1 then
  redis.call('PUBLISH', ARGV[1], 'r')
end
return length
