/**
 * Enqueueing: the producer contract of docs/protocol.md. {@link Client}
 * builds the commands of one call ({@link plan}) and sends them in one
 * pipelined round trip (two when a wake-up is due), and reads tracked jobs'
 * statuses.
 */

import { createHash } from "node:crypto";

import { Redis } from "ioredis";

import { type Command, command, evalsha, run, text } from "./commands.js";
import { QueueKeys, checkName, checkPrefix, queuesKey } from "./keys.js";
import { Backoff, encodeRecord, isUuid, toJson, uuid7 } from "./record.js";
import { type Scripts, sharedScripts } from "./scripts.js";

/** Most records in one script call or RPUSH (as the Rust client). */
export const MAX_RECORDS_PER_CALL = 1000;
/** Most jobs of one enqueue_with_id.lua or enqueue_unique.lua call (as the Rust client). */
export const MAX_IDS_PER_CALL = 200;
/** How long a producer-given id is remembered (Rust: 1 h by default), ms. */
export const DEFAULT_ID_WINDOW_MS = 3_600_000;
/** A tracked job's status TTL while it waits (Rust: PENDING_STATUS_TTL), ms. */
export const PENDING_STATUS_TTL_MS = 7 * 24 * 3600 * 1000;
/** Most distinct tags of one job. */
export const MAX_TAGS = 8;
/** Longest flow key, bytes. */
export const MAX_FLOW_KEY_BYTES = 200;
/** Longest unique-for: 2^53 ms (Rust: MAX_UNIQUE_TTL_MS). */
export const MAX_UNIQUE_TTL_MS = 2 ** 53;

/** A job was refused: invalid options, or its given id is held by another job. */
export class EnqueueError extends Error {
  override name = "EnqueueError";
}

/** What a unique job does when another job holds its key (enqueue_unique.lua). */
export type UniqueMode = "reject" | "replace" | "debounce";

/** Per-job options; every one is optional. */
export interface JobOptions {
  /** The queue (default `default`). */
  queue?: string;
  /** Run after this many ms (schedule.lua); 0 or absent: now. */
  delayMs?: number;
  /** Run at this instant (schedule.lua). */
  runAt?: Date;
  /** −100..100, higher first (enqueue_priority.lua). */
  priority?: number;
  /** At most 8 distinct tags, 1-64 bytes each, no control characters; indexed by the script. */
  tags?: readonly string[];
  /** Attempts before the job is dead; absent: the job type's. */
  maxAttempts?: number;
  /** Time limit of one run, ms; absent: the job type's. */
  timeoutMs?: number;
  /** Retry backoff; absent: the job type's. */
  backoff?: Backoff;
  /** Payload shape version (Rust `Job::VERSION`). */
  version?: number;
  /** A UUID the producer chose: the enqueue is idempotent for an hour (enqueue_with_id.lua). */
  id?: string;
  /** A status from enqueue to end (`Client::status` / `wait_result`, {@link Client.status}). */
  track?: boolean;
  /** Not started within this many ms → dropped as expired. */
  expiresInMs?: number;
  /** At most one job per uniqueness key for this long, ms (enqueue_unique.lua). */
  uniqueForMs?: number;
  /** The uniqueness key; absent: the job type and payload. */
  uniqueKey?: string;
  /** What a duplicate does (default `reject`). */
  uniqueMode?: UniqueMode;
  /** Flow key `class:value`: the job waits in its key's list (flow control). */
  flowKey?: string;
}

/** One job to enqueue: its type, payload (any JSON value; an object for a Rust struct) and options. */
export interface JobSpec extends JobOptions {
  type: string;
  payload?: unknown;
}

/** What happened to one job of an enqueue call. */
export interface Enqueued {
  /** The job's id; for a rejected or debounced unique job, the holder's. */
  id: string;
  /**
   * `enqueued`; `exists` (a given id enqueued before with the same content);
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

type When = ["now" | "in" | "at", number];

function when(job: JobSpec): When {
  if (job.runAt !== undefined) {
    const ms = job.runAt.getTime();
    if (!Number.isFinite(ms)) throw new EnqueueError("runAt is not a valid date");
    return ["at", ms];
  }
  if (job.delayMs !== undefined) {
    if (!Number.isFinite(job.delayMs) || job.delayMs < 0) throw new EnqueueError("delayMs must not be negative");
    const ms = Math.floor(job.delayMs);
    if (ms > 0) return ["in", ms];
  }
  return ["now", 0];
}

function isWhole(value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return value === undefined || (Number.isInteger(value) && value >= min && value <= max);
}

/** Throws {@link EnqueueError} for options the protocol refuses; returns the distinct tags. */
function check(job: JobSpec): string[] {
  try {
    checkName("job type", job.type);
    checkName("queue", job.queue ?? "default");
  } catch (err) {
    throw new EnqueueError((err as Error).message);
  }
  if (!isWhole(job.priority, -100, 100)) throw new EnqueueError("priority must be a whole number within -100..100");
  if (job.tags !== undefined && !Array.isArray(job.tags)) throw new EnqueueError("tags must be an array of strings");
  const tags = [...new Set(job.tags ?? [])];
  if (tags.length > MAX_TAGS) throw new EnqueueError(`at most ${MAX_TAGS} distinct tags`);
  for (const tag of tags) {
    const bytes = Buffer.byteLength(String(tag));
    // eslint-disable-next-line no-control-regex
    if (typeof tag !== "string" || bytes < 1 || bytes > 64 || /[\u0000-\u001f\u007f]/.test(tag)) {
      throw new EnqueueError(`tag ${JSON.stringify(tag)} must be 1-64 bytes without control characters`);
    }
  }
  if (!isWhole(job.maxAttempts, 1)) throw new EnqueueError("maxAttempts must be a whole number of at least 1");
  if (!isWhole(job.timeoutMs, 0)) throw new EnqueueError("timeoutMs must be a whole number of ms, at least 0");
  if (!isWhole(job.version, 0, 2 ** 32 - 1)) throw new EnqueueError("version must be a whole number of at least 0");
  if (!isWhole(job.expiresInMs, 0)) throw new EnqueueError("expiresInMs must be a whole number of ms, at least 0");
  if (job.id !== undefined && !isUuid(String(job.id).toLowerCase())) {
    throw new EnqueueError("a given id must be a hyphenated UUID (36 characters)");
  }
  if (job.flowKey !== undefined) {
    const key = job.flowKey;
    if (typeof key !== "string" || key.length < 1 || key.length > MAX_FLOW_KEY_BYTES || !/^[ -~]+$/.test(key) || /["\\]/.test(key)) {
      throw new EnqueueError(`flow key ${JSON.stringify(key)} must be 1-${MAX_FLOW_KEY_BYTES} printable ASCII characters without '"' or '\\'`);
    }
  }
  if (job.uniqueForMs !== undefined) {
    if (!isWhole(job.uniqueForMs, 1, MAX_UNIQUE_TTL_MS)) throw new EnqueueError("uniqueForMs must be a whole number of ms, at least 1");
    if (job.id !== undefined) throw new EnqueueError("a unique job takes no given id");
    if (job.uniqueMode !== undefined && !["reject", "replace", "debounce"].includes(job.uniqueMode)) {
      throw new EnqueueError("uniqueMode must be reject, replace or debounce");
    }
  } else if (job.uniqueKey !== undefined || job.uniqueMode !== undefined) {
    throw new EnqueueError("uniqueKey and uniqueMode need uniqueForMs");
  }
  return tags;
}

/** The lock's digest of a uniqueness key, as the Rust client computes it. */
export function uniqueDigest(type: string, key: string | undefined, payload: string): string {
  const sha = createHash("sha1");
  sha.update(key !== undefined ? `key\n${key}` : `job\n${type}\n${payload}`);
  return sha.digest("hex");
}

/** The envelope of `job` under `id`, members holding their default left out. */
function envelopeOf(job: JobSpec, id: string, tags: string[], unique: string | undefined): Record<string, unknown> {
  const envelope: Record<string, unknown> = { id, type: job.type };
  if (job.maxAttempts !== undefined) envelope.max_attempts = job.maxAttempts;
  if (job.priority) envelope.priority = job.priority;
  if (job.timeoutMs !== undefined) envelope.timeout_ms = job.timeoutMs;
  if (job.backoff !== undefined) envelope.backoff = job.backoff.toJson();
  if (job.version) envelope.version = job.version;
  if (unique !== undefined) envelope.unique = unique;
  if (job.expiresInMs !== undefined) envelope.expires_at = Date.now() + job.expiresInMs;
  if (job.track) envelope.track = true;
  if (job.flowKey !== undefined) envelope.flow = job.flowKey;
  if (tags.length > 0) envelope.tags = tags;
  return envelope;
}

/** How to read the reply of one command of a plan. */
type Reading =
  | { kind: "push"; count: number; channel: string }
  | { kind: "given"; slots: number[] }
  | { kind: "unique"; slots: number[] };

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
  interface Prepared { job: JobSpec; slot: number; id: string; record: string; at: When; unique?: string }
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
    const prepared: Prepared = { job, slot: results.length, id, record, at, ...(unique ? { unique } : {}) };
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
    for (const entry of entries) {
      const { job, at } = entry;
      if (job.track) commands.push(...statusInit(keys.status(entry.id), at));
      if (entry.unique !== undefined) uniques.push(entry);
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
    const stride = reading.kind === "given" ? 2 : 3;
    reading.slots.forEach((slot, n) => {
      const status = parts[n * stride]!;
      const id = parts[n * stride + 1]!;
      if (status === "taken") throw new EnqueueError(`job id ${id} is held by another job`);
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
