/**
 * The record format (docs/protocol.md, "The record").
 *
 * A record is the compact JSON envelope, one newline, and the payload JSON.
 * The envelope's members keep the Rust order (`id` first, `type` second: the
 * Lua scripts read the id at bytes 8-43 and edit members as text), and
 * members holding their default are left out.
 */

import { randomBytes, randomInt } from "node:crypto";

/** A decoded envelope: the JSON object before the record's newline. */
export type Envelope = Record<string, unknown> & { id: string; type: string };

/** One entry of a job's error history. */
export interface ErrorEntry {
  attempt: number;
  at: number;
  kind: string;
  message: string;
}

/** Envelope members in the order the Rust `Envelope` serializes them. */
export const ENVELOPE_ORDER = [
  "id", "type", "attempt", "max_attempts", "priority", "timeout_ms", "backoff",
  "run_at", "version", "traceparent", "errors", "cron", "unique", "expires_at",
  "track", "dependents", "after", "on_parent_failure", "flow", "workflow",
  "batch", "tags", "enc",
] as const;
/** Most error entries kept in a job's history (Rust: MAX_ERROR_HISTORY). */
export const MAX_ERROR_HISTORY = 10;
/** Longest error message kept, in bytes (Rust: MAX_ERROR_MESSAGE_BYTES). */
export const MAX_ERROR_MESSAGE_BYTES = 2048;
/** Attempts of a job type that sets none (Rust: DEFAULT_MAX_ATTEMPTS). */
export const DEFAULT_MAX_ATTEMPTS = 25;
/** Time limit of one run when neither the job nor its type sets one (Rust: DEFAULT_TIMEOUT), ms. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

const NEWLINE = 0x0a;

/** Random bytes drawn 4 KiB at a time: one system call per 256 ids, not one per id. */
const randomPool = { bytes: Buffer.alloc(0), used: 0 };

function random16(): Buffer {
  if (randomPool.used + 16 > randomPool.bytes.length) {
    randomPool.bytes = randomBytes(4096);
    randomPool.used = 0;
  }
  const bytes = Buffer.from(randomPool.bytes.subarray(randomPool.used, randomPool.used + 16));
  randomPool.used += 16;
  return bytes;
}

/** A fresh UUID version 7 (48 bits of Unix ms, then random bits), lowercase. */
export function uuid7(): string {
  const bytes = random16();
  const ms = Date.now();
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a lowercase hyphenated UUID. */
export function isUuid(text: string): boolean {
  return UUID_RE.test(text);
}

/** Compact JSON as serde_json writes it (no whitespace, UTF-8 kept); throws for undefined. */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value === undefined ? null : value);
  if (text === undefined) {
    throw new TypeError("the value has no JSON form");
  }
  return text;
}

/** The envelope as compact JSON, members in the Rust order (unknown ones last). */
export function encodeEnvelope(envelope: Record<string, unknown>): string {
  const ordered: Record<string, unknown> = {};
  for (const name of ENVELOPE_ORDER) {
    if (envelope[name] !== undefined) ordered[name] = envelope[name];
  }
  for (const [name, value] of Object.entries(envelope)) {
    if (!(name in ordered) && value !== undefined) ordered[name] = value;
  }
  return JSON.stringify(ordered);
}

/** `<envelope>\n<payload>`; `payload` is JSON text without a raw newline. */
export function encodeRecord(envelope: Record<string, unknown>, payload: string): string {
  return `${encodeEnvelope(envelope)}\n${payload}`;
}

/** The id as the scripts read it: bytes 8-43 of the record. */
export function recordId(record: Buffer): string {
  return record.subarray(7, 43).toString("utf8");
}

/** A record that is not an envelope, a newline and a payload. */
export class MalformedRecord extends Error {
  override name = "MalformedRecord";
}

/** The decoded envelope and the raw payload bytes. */
export function splitRecord(record: Buffer): { envelope: Envelope; payload: Buffer } {
  const newline = record.indexOf(NEWLINE);
  if (newline < 0) throw new MalformedRecord("no newline between envelope and payload");
  let envelope: unknown;
  try {
    envelope = JSON.parse(record.subarray(0, newline).toString("utf8"));
  } catch (err) {
    throw new MalformedRecord(`the envelope is not JSON: ${(err as Error).message}`);
  }
  if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)
      || typeof (envelope as Envelope).id !== "string" || typeof (envelope as Envelope).type !== "string") {
    throw new MalformedRecord("the envelope has no string id and type");
  }
  return { envelope: envelope as Envelope, payload: record.subarray(newline + 1) };
}

/** `text` cut to at most `limit` UTF-8 bytes, at a character boundary. */
export function truncateUtf8(text: string, limit: number): string {
  const raw = Buffer.from(text, "utf8");
  if (raw.length <= limit) return text;
  let end = limit;
  // Step back over continuation bytes (10xxxxxx) so no character is cut.
  while (end > 0 && (raw[end]! & 0xc0) === 0x80) end--;
  return raw.subarray(0, end).toString("utf8");
}

/** An error-history entry `{"attempt","at","kind","message"}`. */
export function errorEntry(attempt: number, kind: string, message: string): ErrorEntry {
  return { attempt, at: Date.now(), kind, message: truncateUtf8(message, MAX_ERROR_MESSAGE_BYTES) };
}

/** Appends `entry` to the history, keeping the newest {@link MAX_ERROR_HISTORY}. */
export function pushError(envelope: Record<string, unknown>, entry: ErrorEntry): void {
  const errors = Array.isArray(envelope.errors) ? [...envelope.errors] : [];
  errors.push(entry);
  envelope.errors = errors.slice(-MAX_ERROR_HISTORY);
}

/**
 * A damaged record dead-lettered as found inside a fresh envelope (as the
 * Rust worker does): the dead id and the new record (bytes, the damaged
 * record kept byte for byte as its payload).
 */
export function malformedRecord(record: Buffer, reason: string): { deadId: string; record: Buffer } {
  const leased = recordId(record);
  const deadId = isUuid(leased.toLowerCase()) && leased.length === 36 ? leased.toLowerCase() : uuid7();
  const envelope: Record<string, unknown> = { id: deadId, type: "malformed", attempt: 1 };
  const message = `not a valid job record (${truncateUtf8(reason, 512)}); the stored bytes are kept as the payload`;
  pushError(envelope, errorEntry(1, "malformed", message));
  return { deadId, record: Buffer.concat([Buffer.from(`${encodeEnvelope(envelope)}\n`), record]) };
}

/** A retry backoff policy, serialized as the Rust `BackoffPolicy`. */
export class Backoff {
  private constructor(
    readonly kind: "exponential" | "fixed",
    readonly baseMs: number,
    readonly factor: number,
    readonly maxMs: number,
    readonly delayMs: number,
    readonly jitter: number,
  ) {}

  /** `base × factor^(retry-1)`, capped at `maxMs`, spread ± `jitter` (0-1). */
  static exponential(baseMs: number, factor: number, maxMs: number, jitter = 0.25): Backoff {
    return new Backoff("exponential", baseMs, factor, maxMs, 0, jitter);
  }

  /** The same delay every time, spread ± `jitter` (0-1). */
  static fixed(delayMs: number, jitter = 0): Backoff {
    return new Backoff("fixed", 0, 2, 0, delayMs, jitter);
  }

  /** The policy in an envelope's `backoff` member, or undefined if it is not one. */
  static fromJson(value: unknown): Backoff | undefined {
    if (typeof value !== "object" || value === null) return undefined;
    const v = value as Record<string, unknown>;
    const num = (x: unknown): number | undefined => (typeof x === "number" && Number.isFinite(x) ? x : undefined);
    const jitter = num(v.jitter) ?? 0;
    if (v.kind === "exponential") {
      const [base, factor, max] = [num(v.base_ms), num(v.factor), num(v.max_ms)];
      if (base === undefined || factor === undefined || max === undefined) return undefined;
      return Backoff.exponential(base, factor, max, jitter);
    }
    if (v.kind === "fixed") {
      const delay = num(v.delay_ms);
      return delay === undefined ? undefined : Backoff.fixed(delay, jitter);
    }
    return undefined;
  }

  /** The envelope member (serde's `{"kind": …}` form). */
  toJson(): Record<string, unknown> {
    if (this.kind === "fixed") return { kind: "fixed", delay_ms: this.delayMs, jitter: this.jitter };
    return { kind: "exponential", base_ms: this.baseMs, factor: this.factor, max_ms: this.maxMs, jitter: this.jitter };
  }

  /** The delay before retry number `retry` (1 = the first), ms. */
  delayMsFor(retry: number): number {
    let nominal: number;
    if (this.kind === "fixed") {
      nominal = this.delayMs;
    } else {
      const factor = this.factor >= 1 ? this.factor : 1;
      const exponent = Math.min(Math.max(retry - 1, 0), 1024);
      nominal = Math.min(this.baseMs * factor ** exponent, this.maxMs);
      if (!Number.isFinite(nominal)) nominal = this.maxMs;
    }
    const jitter = Math.min(Math.max(this.jitter, 0), 1);
    const spread = jitter > 0 ? 1 + jitter * (Math.random() * 2 - 1) : 1;
    return Math.max(Math.floor(nominal * spread), 0);
  }
}

/** The Rust default: 15 s doubling to 2 days, ± 25 %. */
export const DEFAULT_BACKOFF = Backoff.exponential(15_000, 2, 2 * 24 * 3600 * 1000, 0.25);

/** A random 8-hex-digit token (worker ids). */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** A random integer in [0, max). */
export function randomBelow(max: number): number {
  return randomInt(max);
}

