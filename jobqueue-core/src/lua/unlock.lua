--[[ unlock.lua — release a lock only if this process still holds it.

Called by: store/ops/unlock.rs, from the migrator (store/schema.rs,
Migrator::run) releasing the migration lock `P:migrate:lock`: `jobqueue
migrate` (jobqueue-cli/src/commands/migrate.rs) or a worker starting on a
fresh or outdated database.

KEYS[1]  the lock key
ARGV[1]  the owner token written when the lock was taken

Returns: 1 when released, 0 when the lock was not ours (expired or taken).
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
