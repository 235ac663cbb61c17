/**
 * One job to enqueue: its options, how they are checked, and its envelope
 * (docs/protocol.md, "The record"), shared by plain enqueues (producer.ts)
 * and chains (chain.ts).
 */

import { createHash } from "node:crypto";

import { checkName } from "./keys.js";
import { Backoff, isUuid } from "./record.js";

/** Longest idempotency key, bytes (Rust: MAX_KEY_BYTES). */
export const MAX_IDEMPOTENCY_KEY_BYTES = 1024;
/** An idempotency key's window when none is given: 24 h. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;
/** Longest idempotency window: 30 days (Rust: MAX_WINDOW). */
export const MAX_IDEMPOTENCY_WINDOW_MS = 30 * 24 * 3600 * 1000;
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
  /**
   * At most one job per key within the window, even after that job finished
   * (enqueue_idempotent.lua; the Rust client's `idempotency_key`): a repeat
   * with the same type and payload answers the first job's id, one with
   * other content is refused. 1-1,024 bytes.
   */
  idempotencyKey?: string;
  /** The idempotency key's window, ms (default 24 h, at most 30 days). */
  idempotencyWindowMs?: number;
}

/** One job to enqueue: its type, payload (any JSON value; an object for a Rust struct) and options. */
export interface JobSpec extends JobOptions {
  type: string;
  payload?: unknown;
}

/** When a job runs: `now`, `in` a delay (ms) or `at` an instant (epoch ms). */
export type When = ["now" | "in" | "at", number];

/** When `job` runs; throws {@link EnqueueError} for a negative delay or a bad date. */
export function when(job: JobSpec): When {
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
export function check(job: JobSpec): string[] {
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
  if (job.idempotencyKey !== undefined) {
    const bytes = typeof job.idempotencyKey === "string" ? Buffer.byteLength(job.idempotencyKey) : 0;
    if (bytes < 1 || bytes > MAX_IDEMPOTENCY_KEY_BYTES) {
      throw new EnqueueError(`an idempotency key is 1 to ${MAX_IDEMPOTENCY_KEY_BYTES} bytes`);
    }
    if (!isWhole(job.idempotencyWindowMs, 1, MAX_IDEMPOTENCY_WINDOW_MS)) {
      throw new EnqueueError("an idempotency key's window is 1 ms to 30 days");
    }
    // As the Rust client: enqueue_idempotent.lua does not index tags.
    if (job.uniqueForMs !== undefined || tags.length > 0) {
      throw new EnqueueError("an idempotency key cannot go with uniqueForMs or tags");
    }
  } else if (job.idempotencyWindowMs !== undefined) {
    throw new EnqueueError("idempotencyWindowMs needs idempotencyKey");
  }
  return tags;
}

/** The lock's digest of a uniqueness key, as the Rust client computes it. */
export function uniqueDigest(type: string, key: string | undefined, payload: string): string {
  const sha = createHash("sha1");
  sha.update(key !== undefined ? `key\n${key}` : `job\n${type}\n${payload}`);
  return sha.digest("hex");
}

/** What makes two enqueues under one idempotency key "the same job": SHA-1 (hex) of `<type>\n<payload>`. */
export function contentDigest(type: string, payload: string): string {
  return createHash("sha1").update(`${type}\n${payload}`).digest("hex");
}

/** The key name part of an idempotency key: its SHA-256 (hex). */
export function idempotencyKeyDigest(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** The envelope of `job` under `id`, members holding their default left out. */
export function envelopeOf(job: JobSpec, id: string, tags: string[], unique: string | undefined): Record<string, unknown> {
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
