/**
 * Enqueueing: the producer contract of docs/protocol.md. {@link Client}
 * builds the commands of one call ({@link plan}) and sends them in one
 * pipelined round trip (two when a wake-up is due), and reads tracked jobs'
 * statuses.
 */

import { Redis } from "ioredis";

import { enqueueChain } from "./chain.js";
import { type Command, command, evalsha, run, text } from "./commands.js";
import {
  DEFAULT_IDEMPOTENCY_WINDOW_MS, type JobOptions, type JobSpec, type When, EnqueueError, check, contentDigest,
  envelopeOf, idempotencyKeyDigest, uniqueDigest, when,
} from "./job.js";
import { QueueKeys, checkPrefix, queuesKey } from "./keys.js";
import { encodeRecord, toJson, uuid7 } from "./record.js";
import { type Scripts, sharedScripts } from "./scripts.js";

export { EnqueueError, uniqueDigest } from "./job.js";
export type { JobOptions, JobSpec, UniqueMode, When } from "./job.js";

/** Most records in one script call or RPUSH (as the Rust client). */
export const MAX_RECORDS_PER_CALL = 1000;
/** Most jobs of one enqueue_with_id.lua or enqueue_unique.lua call (as the Rust client). */
export const MAX_IDS_PER_CALL = 200;
/** How long a producer-given id is remembered (Rust: 1 h by default), ms. */
export const DEFAULT_ID_WINDOW_MS = 3_600_000;
/** A tracked job's status TTL while it waits (Rust: PENDING_STATUS_TTL), ms. */
export const PENDING_STATUS_TTL_MS = 7 * 24 * 3600 * 1000;

/** What happened to one job of an enqueue call. */
export interface Enqueued {
  /** The job's id; for a rejected or debounced unique job, the holder's. */
  id: string;
  /**
   * `enqueued`; `exists` (a given id or idempotency key enqueued before with the same content: the first job's id);
   * for unique jobs `duplicate` (rejected), `debounced` or `replaced`.
   */
  status: "enqueued" | "exists" | "duplicate" | "debounced" | "replaced";
}

/** A tracked job's status (`P:{Q}:status:<id>`), as the Rust `Client::status` reads it. */
export interface JobStatus {
  state: string;
  result: unknown;
  error: string | null;
  percent: number | null;
  message: string | null;
  stale: boolean;
  updatedAt: number | null;
}

/** How to read the reply of one command of a plan. */
type Reading =
  | { kind: "push"; count: number; channel: string }
  | { kind: "given"; slots: number[] }
  | { kind: "unique"; slots: number[] }
  | { kind: "idempotent"; slots: number[] };

/** The commands of one enqueue call, and how to read their replies. */
export interface Plan {
  results: Enqueued[];
  commands: Command[];
  readings: Map<number, Reading>;
  queues: string[];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Builds the commands that enqueue `jobs`, in order per queue; `listed`
 * names queues this producer already added to `P:queues`. Every job is
 * checked first: a bad one throws before anything is sent.
 */
export function plan(prefix: string, scripts: Scripts, jobs: readonly JobSpec[],
  idWindowMs: number = DEFAULT_ID_WINDOW_MS, listed: ReadonlySet<string> = new Set()): Plan {
  interface Prepared { job: JobSpec; slot: number; id: string; payload: string; record: string; at: When; unique?: string }
  const results: Enqueued[] = [];
  const byQueue = new Map<string, Prepared[]>();
  for (const job of jobs) {
    const tags = check(job);
    const at = when(job);
    const id = job.id !== undefined ? job.id.toLowerCase() : uuid7();
    const payload = toJson(job.payload);
    if (payload.includes("\n")) throw new EnqueueError("the payload's JSON must not contain a raw newline");
    const unique = job.uniqueForMs !== undefined ? uniqueDigest(job.type, job.uniqueKey, payload) : undefined;
    const record = encodeRecord(envelopeOf(job, id, tags, unique), payload);
    const queue = job.queue ?? "default";
    const prepared: Prepared = { job, slot: results.length, id, payload, record, at, ...(unique ? { unique } : {}) };
    results.push({ id, status: "enqueued" });
    const list = byQueue.get(queue);
    if (list) list.push(prepared);
    else byQueue.set(queue, [prepared]);
  }
  const unlisted = [...byQueue.keys()].filter((queue) => !listed.has(queue));
  const commands: Command[] = unlisted.length > 0 ? [command("SADD", queuesKey(prefix), ...unlisted)] : [];
  const readings = new Map<number, Reading>();
  for (const [queue, entries] of byQueue) {
    const keys = new QueueKeys(prefix, queue);
    const plain: string[] = [];
    const scripted: string[] = [];
    const scheduled: (string | number)[] = [];
    const given: Prepared[] = [];
    const uniques: Prepared[] = [];
    const idempotent: Prepared[] = [];
    for (const entry of entries) {
      const { job, at } = entry;
      if (job.track) commands.push(...statusInit(keys.status(entry.id), at));
      if (entry.unique !== undefined) uniques.push(entry);
      else if (job.idempotencyKey !== undefined) idempotent.push(entry);
      else if (job.id !== undefined) given.push(entry);
      else if (at[0] !== "now") scheduled.push(entry.record, at[0], at[1]);
      else if (job.priority || job.tags?.length || job.flowKey !== undefined) scripted.push(entry.record);
      else plain.push(entry.record);
    }
    for (const chunk of chunks(plain, MAX_RECORDS_PER_CALL)) {
      readings.set(commands.length, { kind: "push", count: chunk.length, channel: keys.events });
      commands.push(command("RPUSH", keys.ready, ...chunk));
    }
    for (const chunk of chunks(scripted, MAX_RECORDS_PER_CALL)) {
      commands.push(evalsha(scripts.get("enqueue_priority"), [keys.ready, keys.priority], [keys.events, ...chunk]));
    }
    for (const chunk of chunks(scheduled, 3 * MAX_RECORDS_PER_CALL)) {
      commands.push(evalsha(scripts.get("schedule"), [keys.scheduled, keys.jobs, keys.ready, keys.priority],
        [keys.events, ...chunk]));
    }
    for (const chunk of chunks(given, MAX_IDS_PER_CALL)) {
      readings.set(commands.length, { kind: "given", slots: chunk.map((e) => e.slot) });
      commands.push(evalsha(scripts.get("enqueue_with_id"),
        [keys.ready, keys.priority, keys.scheduled, keys.jobs, ...chunk.map((e) => keys.idMarker(e.id))],
        [keys.events, idWindowMs, ...chunk.flatMap((e) => [e.record, e.at[0], e.at[1]])]));
    }
    for (const chunk of chunks(uniques, MAX_IDS_PER_CALL)) {
      readings.set(commands.length, { kind: "unique", slots: chunk.map((e) => e.slot) });
      commands.push(evalsha(scripts.get("enqueue_unique"),
        [keys.scheduled, keys.retry, keys.jobs, keys.ready, keys.priority, ...chunk.map((e) => keys.unique(e.unique!))],
        [keys.events, ...chunk.flatMap((e) => [e.job.uniqueMode ?? "reject", e.job.uniqueForMs!, e.record, e.at[0], e.at[1]])]));
    }
    for (const chunk of chunks(idempotent, MAX_IDS_PER_CALL)) {
      readings.set(commands.length, { kind: "idempotent", slots: chunk.map((e) => e.slot) });
      commands.push(evalsha(scripts.get("enqueue_idempotent"),
        [keys.ready, keys.priority, keys.scheduled, keys.jobs,
          ...chunk.flatMap((e) => [keys.idem(idempotencyKeyDigest(e.job.idempotencyKey!)), keys.idMarker(e.id)])],
        [keys.events, idWindowMs, ...chunk.flatMap((e) => [e.record, e.at[0], e.at[1],
          e.job.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_WINDOW_MS, contentDigest(e.job.type, e.payload),
          e.job.id !== undefined ? "given" : "generated"])]));
    }
  }
  return { results, commands, readings, queues: [...byQueue.keys()] };
}

/**
 * Reads the replies of a plan into its results; returns the wake-ups to
 * publish. Throws {@link EnqueueError} when a given id is held by another job.
 */
export function followUp(planned: Plan, replies: unknown[]): Command[] {
  const wakeUps: Command[] = [];
  for (const [index, reading] of planned.readings) {
    const reply = replies[index];
    if (reading.kind === "push") {
      if (Number(reply) === reading.count) wakeUps.push(command("PUBLISH", reading.channel, "r"));
      continue;
    }
    const parts = (reply as unknown[]).map(text);
    const stride = reading.kind === "unique" ? 3 : 2;
    reading.slots.forEach((slot, n) => {
      const status = parts[n * stride]!;
      const id = parts[n * stride + 1]!;
      if (status === "taken") throw new EnqueueError(`job id ${id} is held by another job`);
      if (status === "conflict") {
        throw new EnqueueError(`the idempotency key is held by job ${id}, enqueued with another type or payload`);
      }
      planned.results[slot] = { id, status: status as Enqueued["status"] };
    });
  }
  return wakeUps;
}

function statusInit(key: string, [kind, ms]: When): Command[] {
  const now = Date.now();
  const delay = kind === "in" ? ms : kind === "at" ? Math.max(0, ms - now) : 0;
  return [
    command("HSETNX", key, "state", kind === "now" ? "queued" : "scheduled"),
    command("HSETNX", key, "updated_at", now),
    command("PEXPIRE", key, PENDING_STATUS_TTL_MS + delay, "NX"),
  ];
}

/** Options of a {@link Client}. */
export interface ClientOptions {
  /** Key prefix (default `jq`). */
  prefix?: string;
  /** How long a producer-given id is remembered, ms (default 1 h). */
  idWindowMs?: number;
  /** Another copy of the scripts (tests). */
  scripts?: Scripts;
}

/**
 * Enqueues jobs and reads tracked jobs' statuses.
 *
 * ```ts
 * const client = Client.fromUrl("redis://127.0.0.1:6379", { prefix: "jq" });
 * const id = await client.enqueue("send_email", { user_id: 7 }, { queue: "mail" });
 * ```
 */
export class Client {
  readonly redis: Redis;
  readonly prefix: string;
  readonly scripts: Scripts;
  readonly idWindowMs: number;
  private readonly listed = new Set<string>();
  private readonly owned: boolean;

  constructor(redis: Redis, options: ClientOptions = {}, owned = false) {
    this.redis = redis;
    this.prefix = checkPrefix(options.prefix ?? "jq");
    this.scripts = options.scripts ?? sharedScripts();
    this.idWindowMs = options.idWindowMs ?? DEFAULT_ID_WINDOW_MS;
    this.owned = owned;
  }

  /** A client with its own connection to the Redis at `url` ({@link close} closes it). */
  static fromUrl(url: string, options: ClientOptions = {}): Client {
    return new Client(new Redis(url, { maxRetriesPerRequest: 3 }), options, true);
  }

  /** Enqueues one job; returns its id (for a rejected unique job, the holder's). */
  async enqueue(type: string, payload?: unknown, options: JobOptions = {}): Promise<string> {
    const [first] = await this.submit([{ ...options, type, payload }]);
    return first!.id;
  }

  /** Enqueues `jobs` in one round trip (two when a wake-up is due); returns their ids, in order. */
  async enqueueMany(jobs: readonly JobSpec[]): Promise<string[]> {
    return (await this.submit(jobs)).map((r) => r.id);
  }

  /** As {@link enqueueMany}, saying for each job what happened (duplicates of unique jobs, given ids seen before). */
  async submit(jobs: readonly JobSpec[]): Promise<Enqueued[]> {
    const planned = plan(this.prefix, this.scripts, jobs, this.idWindowMs, this.listed);
    const replies = await run(this.redis, planned.commands);
    for (const queue of planned.queues) this.listed.add(queue);
    const wakeUps = followUp(planned, replies);
    if (wakeUps.length > 0) await run(this.redis, wakeUps);
    return planned.results;
  }

  /**
   * Enqueues `jobs` as a chain: each runs after the previous one succeeded
   * (the Rust client's `.after()`; Rust and TypeScript workers run them). Returns their ids.
   */
  async chain(jobs: readonly JobSpec[]): Promise<string[]> {
    return enqueueChain(this.redis, this.prefix, this.scripts, jobs);
  }

  /** The status of job `id` of `queue`; null when it has none (untracked, unknown or past its TTL). */
  async status(queue: string, id: string): Promise<JobStatus | null> {
    const keys = new QueueKeys(this.prefix, queue);
    const fields = await this.redis.hgetall(keys.status(id));
    if (!fields.state) return null;
    let state = fields.state;
    if (state === "scheduled" && fields.due !== undefined && Number(fields.due) <= Date.now()) state = "queued";
    let result: unknown = null;
    if (fields.result !== undefined) {
      try {
        result = JSON.parse(fields.result);
      } catch {
        result = null;
      }
    }
    const percent = fields.percent !== undefined ? Number(fields.percent) : null;
    return {
      state,
      result,
      error: fields.error ?? null,
      percent: Number.isFinite(percent) ? percent : null,
      message: fields.message ?? null,
      stale: fields.stale === "1",
      updatedAt: fields.updated_at !== undefined ? Number(fields.updated_at) : null,
    };
  }

  /** Closes the connection if this client opened it. */
  async close(): Promise<void> {
    if (this.owned) await this.redis.quit();
  }
}
