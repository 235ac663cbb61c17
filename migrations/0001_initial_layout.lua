--[[ 0001_initial_layout.lua — the first data layout (schema version 1).

Every migration runs once per registered queue, atomically, with the
queue's keys in KEYS and its name in ARGV[1]; after all queues are done the
migrator sets P:schema to the migration's version. A migration must be
idempotent: if the migrator dies half way it runs again on the next try.

Version 1 is the layout jobqueue was born with (see
jobqueue-core/src/store/keys.rs and docs/protocol.md), so there is nothing to
transform: applying it to a fresh or a version-1 database changes no data and
only records the version.

KEYS[1] P:{Q}:ready      KEYS[2] P:{Q}:priority   KEYS[3] P:{Q}:scheduled
KEYS[4] P:{Q}:retry      KEYS[5] P:{Q}:dead       KEYS[6] P:{Q}:jobs
KEYS[7] P:{Q}:leases     KEYS[8] P:{Q}:stats      KEYS[9] P:{Q}:paused
ARGV[1] queue name

Returns: number of keys changed (0).
]]
return 0
