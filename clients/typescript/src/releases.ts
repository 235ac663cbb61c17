/**
 * The release outbox of chains (docs/protocol.md, "The release outbox").
 *
 * The scripts that end a job with dependents (`ack_parents.lua`, `bury.lua`
 * with parent keys, `expire.lua`) file `<parent id>|<outcome>` in the
 * parent queue's `P:{Q}:releases` in the same step as the outcome, and
 * return it. Whoever wrote it then applies it: for each child named in the
 * parent's hash (`c|<child queue>|<child id>`), `release_child.lua` on the
 * child's queue (idempotent), then `ZREM` of the entry. The reaper sweeps
 * the outbox for entries a worker left when it died between the two.
 */

import type { Redis } from "ioredis";

import { command, evalsha, run, runOne, text } from "./commands.js";
import { QueueKeys } from "./keys.js";
import type { Scripts } from "./scripts.js";

/** Entries taken per sweep of one queue's outbox. */
const SWEEP_BATCH = 100;

/**
 * Applies one outbox entry of queue `keys`: releases (or dead-letters) the
 * parent's children, then removes the entry. Entries of child batches
 * (`b|…`) are left for a Rust worker. Returns the children told.
 */
export async function applyRelease(redis: Redis, scripts: Scripts, prefix: string, keys: QueueKeys,
  entry: string): Promise<number> {
  if (entry.startsWith("b|")) return 0;
  const split = entry.lastIndexOf("|");
  if (split <= 0) return 0;
  const parentId = entry.slice(0, split);
  const outcome = entry.slice(split + 1);
  const fields = (await redis.hkeys(keys.parent(parentId))).filter((field) => field.startsWith("c|"));
  const calls = fields.map((field) => {
    const [, childQueue, childId] = field.split("|");
    const child = new QueueKeys(prefix, childQueue!);
    const id = childId!;
    return evalsha(scripts.get("release_child"),
      [child.waiting, child.jobs, child.deps(id), child.ready, child.priority, child.scheduled, child.dead,
        child.stats, child.parent(id), child.releases],
      [child.events, id, parentId, outcome]);
  });
  // One child per call: children may live on other queues (other slots).
  for (const call of calls) await runOne(redis, call);
  await run(redis, [command("ZREM", keys.releases, entry)]);
  return calls.length;
}

/** Applies the entries waiting in queue `keys`' outbox (the reaper's sweep). */
export async function sweepReleases(redis: Redis, scripts: Scripts, prefix: string, keys: QueueKeys): Promise<number> {
  const entries = (await redis.zrange(keys.releases, 0, SWEEP_BATCH - 1)).map(text);
  let told = 0;
  for (const entry of entries) told += await applyRelease(redis, scripts, prefix, keys, entry);
  return told;
}
