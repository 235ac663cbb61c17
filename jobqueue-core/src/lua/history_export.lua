--[[ history_export.lua — a history exporter wrote entries: move its cursor.

The registered exporter of a queue's history (`P:{Q}:history:export`)
writes the entries after its cursor to its output, makes them durable
there, then calls this with the id of the last one it wrote and how many
it wrote. Only an advance is taken (a late or repeated call after another
exporter process moved further counts nothing), so the trimming in
include/observe.lua never drops an entry no exporter has written unless
the hard cap forces it (counted in `history_lost`). The first call
registers the exporter: every entry kept then is still to be written, and
those already trimmed count as written (`exported` starts at the
appended count minus the stream's length).

Called by: store/ops/history_export.rs (Store::history_export_commit and
Store::history_export_register), from `jobqueue history export`.

KEYS[1]  P:{Q}:history:export  hash  cursor, exported
KEYS[2]  P:{Q}:history         stream
KEYS[3]  P:{Q}:observe         hash  (history_added)
ARGV[1]  id of the last entry written ('' to register only)
ARGV[2]  how many entries were written

Returns: {cursor, exported} after the call.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  local added = tonumber(redis.call('HGET', KEYS[3], 'history_added')) or 0
  local kept = redis.call('XLEN', KEYS[2])
  redis.call('HSET', KEYS[1], 'cursor', '0-0', 'exported', math.max(0, added - kept))
end
local cursor = redis.call('HGET', KEYS[1], 'cursor')
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)%-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
if ARGV[1] ~= '' then
  local new_ms, new_seq = parts(ARGV[1])
  local old_ms, old_seq = parts(cursor)
  if not new_ms then
    return redis.error_reply('ERR jobqueue: not a stream entry id: ' .. ARGV[1])
  end
  if new_ms > old_ms or (new_ms == old_ms and new_seq > old_seq) then
    redis.call('HSET', KEYS[1], 'cursor', ARGV[1])
    redis.call('HINCRBY', KEYS[1], 'exported', tonumber(ARGV[2]) or 0)
    cursor = ARGV[1]
  end
end
return {cursor, redis.call('HGET', KEYS[1], 'exported')}
