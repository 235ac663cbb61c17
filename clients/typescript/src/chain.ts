/**
 * Job chains: each job runs after the previous one succeeded (docs/protocol.md,
 * "Job chains: parents and dependents"), as the Rust client's `.after()`.
 *
 * The first job is enqueued with `dependents` after `parent_open.lua` opened
 * its dependency record (one round trip). Each next job takes two steps,
 * because its parent may live in another Redis Cluster slot:
 * `link_child.lua` on the parent's queue adds it to the parent's children
 * and reads the parent's state, then `enqueue_waiting.lua` on its own queue
 * files it among the jobs waiting for parents (and releases it at once if
 * the parent already succeeded). A job that is not the last also opens its
 * own dependency record first. The workers that run the chain release each
 * job when its parent succeeds (the Rust and TypeScript workers; see
 * releases.ts).
 */

import type { Redis } from "ioredis";

import { type Command, command, evalsha, run, runOne, text } from "./commands.js";
import { QueueKeys, queuesKey } from "./keys.js";
import { EnqueueError, type JobSpec, type When, check, envelopeOf, when } from "./job.js";
import { encodeRecord, toJson, uuid7 } from "./record.js";
import type { Scripts } from "./scripts.js";

/** Most jobs of one chain. */
export const MAX_CHAIN_LENGTH = 1000;

interface Link {
  id: string;
  keys: QueueKeys;
  record: string;
  at: When;
}

function delayOf([kind, ms]: When): number {
  return kind === "in" ? ms : kind === "at" ? Math.max(0, ms - Date.now()) : 0;
}

/**
 * Enqueues `jobs` as a chain on Redis `redis` under `prefix`; returns their
 * ids in order. Unique jobs and given ids are refused (as the Rust client
 * refuses `after` with `unique_for`), before anything is written.
 */
export async function enqueueChain(redis: Redis, prefix: string, scripts: Scripts,
  jobs: readonly JobSpec[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  if (jobs.length > MAX_CHAIN_LENGTH) throw new EnqueueError(`a chain has at most ${MAX_CHAIN_LENGTH} jobs`);
  const links: Link[] = [];
  jobs.forEach((job, index) => {
    const tags = check(job);
    if (job.uniqueForMs !== undefined) throw new EnqueueError("a job of a chain cannot also be unique");
    if (job.id !== undefined) throw new EnqueueError("a job of a chain takes no given id (not supported yet)");
    if (job.idempotencyKey !== undefined) throw new EnqueueError("a job of a chain cannot have an idempotency key");
    const at = when(job);
    const id = uuid7();
    const keys = new QueueKeys(prefix, job.queue ?? "default");
    const envelope = envelopeOf(job, id, tags, undefined);
    if (index < jobs.length - 1) envelope.dependents = true;
    const parent = links[index - 1];
    if (parent) envelope.after = [{ id: parent.id, queue: parent.keys.queue }];
    const payload = toJson(job.payload);
    if (payload.includes("\n")) throw new EnqueueError("the payload's JSON must not contain a raw newline");
    links.push({ id, keys, at, record: encodeRecord(envelope, payload) });
  });
  const queues = [...new Set(links.map((link) => link.keys.queue))];
  const first = links[0]!;
  const opening: Command[] = [command("SADD", queuesKey(prefix), ...queues)];
  if (links.length > 1) opening.push(evalsha(scripts.get("parent_open"), [first.keys.parent(first.id)], [delayOf(first.at)]));
  opening.push(first.at[0] === "now"
    ? evalsha(scripts.get("enqueue_priority"), [first.keys.ready, first.keys.priority], [first.keys.events, first.record])
    : evalsha(scripts.get("schedule"), [first.keys.scheduled, first.keys.jobs, first.keys.ready, first.keys.priority],
      [first.keys.events, first.record, first.at[0], first.at[1]]));
  await run(redis, opening);
  for (let index = 1; index < links.length; index++) {
    const parent = links[index - 1]!;
    const link = links[index]!;
    const keys = link.keys;
    const state = await runOne(redis, evalsha(scripts.get("link_child"), [parent.keys.parent(parent.id)],
      [`c|${keys.queue}|${link.id}`]));
    if (state === null) throw new EnqueueError(`the chain's job ${parent.id} is unknown on ${parent.keys.queue}`);
    const steps: Command[] = [];
    if (index < links.length - 1) steps.push(evalsha(scripts.get("parent_open"), [keys.parent(link.id)], [delayOf(link.at)]));
    steps.push(evalsha(scripts.get("enqueue_waiting"),
      [keys.waiting, keys.jobs, keys.deps(link.id), keys.ready, keys.priority, keys.scheduled, keys.dead, keys.stats,
        keys.parent(link.id), keys.releases],
      [keys.events, link.record, 1, "dead_letter", link.at[0], link.at[1], "", parent.id, text(state)]));
    await run(redis, steps);
  }
  return links.map((link) => link.id);
}
