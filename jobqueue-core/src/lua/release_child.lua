--[[ release_child.lua — tell a waiting job that one of its parents ended.

Idempotent: the parent's outcome is recorded once per parent (a repeat, by
a second worker or the reaper's sweep finishing a crashed worker's releases,
counts nothing), then the job is settled: released to its queue when its
last parent succeeded, dead-lettered (or skipped) when a parent died and its
policy says so. A release that arrives before the job itself (its producer linked it to
the parent but has not enqueued it yet) is kept in the deps hash, with a
TTL, and counted by enqueue_waiting.lua.

Called by: store/ops/release_child.rs, while applying a queue's release
outbox (Store::apply_releases in store/releases.rs): by the worker that
recorded a parent's end, right after (jobqueue-worker/src/run/recording.rs:
an ack, a death, an expiry), by every worker's reaper sweeping entries a
crashed worker left (Store::sweep_releases, from
jobqueue-worker/src/loops/reaper.rs), by a cancel (store/ops/cancel.rs)
and by the operator's deletes (store/releases.rs, after delete_jobs.lua
or delete_keyed.lua).

KEYS     as in include/deps.lua (waiting, jobs, deps, ready, priority,
         scheduled, dead, stats, parent, releases: a job dead-lettered
         here is a dead parent to its own dependents)
ARGV[1]  P:{Q}:events channel
ARGV[2]  the waiting job's id
ARGV[3]  the parent's id
ARGV[4]  the parent's outcome: succeeded | failed

Returns: 'waiting' | 'released' | 'dead' | 'skipped' | 'absent' | 'repeat'
]]
local id, parent, outcome = ARGV[2], ARGV[3], ARGV[4]
if outcome ~= 'succeeded' and outcome ~= 'failed' then
  return redis.error_reply("ERR jobqueue: the outcome must be 'succeeded' or 'failed'")
end
if not record_parent(KEYS[3], parent, outcome) then return 'repeat' end
if redis.call('HEXISTS', KEYS[3], 'need') == 0 then
  redis.call('PEXPIRE', KEYS[3], DEPENDENCY_TTL_MS)
  return 'absent'
end
return settle(id, now_ms())
