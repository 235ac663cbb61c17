/**
 * Recording outcomes: what the worker's runs ended in, batched per queue and
 * written in one pipelined round trip per flush (docs/protocol.md,
 * "Recording outcomes"): `ack.lua`, `ack_parents.lua` for jobs with
 * dependents, `retry.lua` with the backoff delay, `bury.lua` (with parent
 * keys for jobs with dependents), and tracked jobs' statuses after them.
 * A queue's batch that holds keyed jobs (fetched by `fetch_limited.lua`
 * with a flow key) is acked with `ack_keyed.lua` and retried or buried with
 * `P:{Q}:gready`, which releases their flow keys; on a queue with flow
 * limits `wake_waiters.lua` follows the ending scripts in the same round
 * trip.
 * Each script acts only on jobs still in this worker's active hash, so a
 * repeated flush (a reply lost) changes and counts nothing again.
 */

import type { Redis } from "ioredis";

import { type Command, command, evalsha, run, text } from "./commands.js";
import type { FlowLimits } from "./flow.js";
import type { QueueKeys } from "./keys.js";
import { Logger } from "./log.js";
import {
  Backoff, DEFAULT_BACKOFF, type Envelope, encodeEnvelope, errorEntry, pushError, toJson, truncateUtf8,
} from "./record.js";
import { applyRelease } from "./releases.js";
import type { Scripts } from "./scripts.js";
import { Flag, sleep } from "./signal.js";

const log = new Logger("jobqueue.worker");

/** Dead set bounds passed to bury.lua (the Rust defaults). */
export const DEAD_MAX_JOBS = 10_000;
export const DEAD_MAX_AGE_MS = 180 * 24 * 3600 * 1000;
/** A tracked job's status TTL while it runs or will retry (Rust: PENDING_STATUS_TTL), ms. */
export const PENDING_STATUS_TTL_MS = 7 * 24 * 3600 * 1000;
/** Largest result kept in a status, bytes (Rust: MAX_RESULT_BYTES). */
export const MAX_RESULT_BYTES = 65_536;
/** Longest progress message, bytes (Rust: MAX_PROGRESS_MESSAGE_BYTES). */
export const MAX_PROGRESS_MESSAGE_BYTES = 512;
/** Most records in one ack.lua call. */
const MAX_ACKS_PER_CALL = 1000;
/** Debug names of the failure kinds, as the Rust worker's `last_error` writes them. */
const KIND_NAMES: Record<string, string> = {
  panic: "Panic", timeout: "Timeout", lost: "Lost", payload: "Payload",
  unknown_type: "UnknownType", malformed: "Malformed", exhausted: "Exhausted",
};

/** Outcomes waiting to be written, per queue. */
class Outcomes {
  acks = new Map<string, [string, string | undefined][]>();
  retries = new Map<string, (string | number | Buffer)[]>();
  burials = new Map<string, (string | Buffer)[]>();
  /** Jobs with dependents (chains): id and result JSON ('' for none), ended with ack_parents.lua. */
  parentAcks = new Map<string, [string, string][]>();
  /** Jobs with dependents that will not run again: bury.lua with the outbox and parent keys. */
  parentBurials = new Map<string, (string | Buffer)[]>();
  /** Tracked jobs' status writes, sent after the outcome scripts. */
  statuses: Command[] = [];
  /** Queues whose batch holds keyed jobs: their ending scripts release flow keys. */
  keyed = new Set<string>();

  get empty(): boolean {
    return this.acks.size === 0 && this.retries.size === 0 && this.burials.size === 0 && this.statuses.length === 0
      && this.parentAcks.size === 0 && this.parentBurials.size === 0;
  }
}

/** Appends `values` to the list of `key`. */
function push<K, V>(map: Map<K, V[]>, key: K, ...values: V[]): void {
  const list = map.get(key);
  if (list) list.push(...values);
  else map.set(key, [...values]);
}

/** The outcomes of one worker's runs, waiting to be written. */
export class OutcomeRecorder {
  private pending = new Outcomes();
  /** Set when something waits to be written. */
  readonly ready = new Flag();

  constructor(
    private readonly redis: Redis,
    private readonly scripts: Scripts,
    private readonly prefix: string,
    private readonly workerId: string,
    private readonly queues: ReadonlyMap<string, QueueKeys>,
    private readonly statusTtlMs: number,
    private readonly flow: ReadonlyMap<string, FlowLimits>,
  ) {}

  /** True when nothing waits to be written. */
  get empty(): boolean {
    return this.pending.empty;
  }

  /** The status a run ended in, written with the outcomes (after them). */
  status(keys: QueueKeys, jobId: string, state: string,
    { result, error }: { result?: unknown; error?: string }): void {
    const fields: (string | number)[] = ["updated_at", Date.now(), "state", state];
    if (result !== undefined && result !== null && state === "succeeded") {
      let json: string | undefined;
      try {
        json = toJson(result);
      } catch (err) {
        log.warn(`job ${jobId} returned a result that is not JSON: ${(err as Error).message}`);
      }
      if (json !== undefined) {
        if (Buffer.byteLength(json) <= MAX_RESULT_BYTES) fields.push("result", json);
        else log.warn(`job ${jobId} returned a result over ${MAX_RESULT_BYTES} bytes: not kept`);
      }
    }
    if (error !== undefined) fields.push("error", error);
    const ttl = state === "retrying" ? PENDING_STATUS_TTL_MS : this.statusTtlMs;
    const key = keys.status(jobId);
    this.pending.statuses.push(command("HSET", key, ...fields), command("PEXPIRE", key, ttl));
  }

  /** A job with dependents succeeded: its result (JSON, if any) is kept for them. */
  ackParent(keys: QueueKeys, jobId: string, result: unknown): void {
    let json = "";
    if (result !== undefined && result !== null) {
      try {
        json = toJson(result);
      } catch {
        json = "";
      }
      if (Buffer.byteLength(json) > MAX_RESULT_BYTES) json = "";
    }
    push(this.pending.parentAcks, keys.queue, [jobId, json]);
    this.ready.set();
  }

  /**
   * A job succeeded (`unique`: its lock's digest, freed with it; `keyed`:
   * it was leased under a flow key, released with it).
   */
  ack(keys: QueueKeys, jobId: string, unique: string | undefined, keyed: boolean): void {
    push(this.pending.acks, keys.queue, [jobId, unique]);
    this.noteKeyed(keys, keyed);
    this.ready.set();
  }

  private noteKeyed(keys: QueueKeys, keyed: boolean): void {
    if (keyed) this.pending.keyed.add(keys.queue);
  }

  /**
   * A run failed: the record gets `attempt` and an error entry; retried after
   * the backoff delay, or buried when `final`.
   */
  fail(keys: QueueKeys, leasedId: string, envelope: Envelope, payload: Buffer, attempt: number,
    kind: string, message: string, final: boolean, keyed: boolean, backoff?: Backoff,
    reported = false): void {
    this.noteKeyed(keys, keyed);
    envelope.attempt = attempt;
    delete envelope.run_at; // as the Rust worker: the scripts write the next one
    pushError(envelope, errorEntry(attempt, kind, message));
    const record = Buffer.concat([Buffer.from(`${encodeEnvelope(envelope)}\n`), payload]);
    if (envelope.track === true || reported) {
      const error = kind === "error" ? message : `${KIND_NAMES[kind] ?? kind}: ${message}`;
      this.status(keys, leasedId, final ? "dead" : "retrying", { error: truncateUtf8(error, 2048) });
    }
    if (final) {
      if (envelope.dependents === true) {
        push(this.pending.parentBurials, keys.queue, leasedId, leasedId, record);
        this.ready.set();
      } else {
        this.bury(keys, leasedId, leasedId, record, keyed);
      }
      return;
    }
    const policy = Backoff.fromJson(envelope.backoff) ?? backoff ?? DEFAULT_BACKOFF;
    push(this.pending.retries, keys.queue, leasedId, policy.delayMsFor(attempt), record);
    this.ready.set();
  }

  /** A job that will not run again goes to the dead set under `deadId` (`keyed`: as for {@link ack}). */
  bury(keys: QueueKeys, leasedId: string, deadId: string, record: Buffer, keyed: boolean): void {
    push(this.pending.burials, keys.queue, leasedId, deadId, record);
    this.noteKeyed(keys, keyed);
    this.ready.set();
  }

  /** Writes everything pending in one pipelined round trip; returns the ids it ended, per queue. */
  async flush(): Promise<[string, string[]][]> {
    const outcomes = this.pending;
    this.pending = new Outcomes();
    if (outcomes.empty) return [];
    const byQueue = this.queues;
    const commands: Command[] = [];
    const ended: [string, string[]][] = [];
    for (const [queue, acks] of outcomes.acks) {
      const keys = byQueue.get(queue)!;
      for (let start = 0; start < acks.length; start += MAX_ACKS_PER_CALL) {
        const chunk = acks.slice(start, start + MAX_ACKS_PER_CALL);
        if (outcomes.keyed.has(queue)) { // ack_keyed.lua frees unique locks from the records
          commands.push(evalsha(this.scripts.get("ack_keyed"), [keys.active(this.workerId), keys.gready, keys.stats],
            chunk.map(([id]) => id)));
          ended.push([queue, chunk.map(([id]) => id)]);
          continue;
        }
        const unique = chunk.filter(([, digest]) => digest !== undefined);
        const plain = chunk.filter(([, digest]) => digest === undefined).map(([id]) => id);
        commands.push(evalsha(this.scripts.get("ack"),
          [keys.active(this.workerId), keys.stats, ...unique.map(([, digest]) => keys.unique(digest!))],
          [...unique.map(([id]) => id), ...plain]));
        ended.push([queue, chunk.map(([id]) => id)]);
      }
    }
    for (const [queue, triples] of outcomes.retries) {
      const keys = byQueue.get(queue)!;
      commands.push(evalsha(this.scripts.get("retry"),
        [keys.active(this.workerId), keys.retry, keys.jobs, keys.stats, ...this.flowReady(outcomes, keys)],
        [keys.events, 1, ...triples]));
      ended.push([queue, triples.filter((_, i) => i % 3 === 0).map(String)]);
    }
    for (const [queue, triples] of outcomes.burials) {
      const keys = byQueue.get(queue)!;
      commands.push(evalsha(this.scripts.get("bury"),
        [keys.active(this.workerId), keys.dead, keys.jobs, keys.stats, ...this.flowReady(outcomes, keys)],
        [DEAD_MAX_JOBS, DEAD_MAX_AGE_MS, ...triples]));
      ended.push([queue, triples.filter((_, i) => i % 3 === 0).map((id) => id.toString())]);
    }
    // Scripts whose replies carry outbox entries: command index, queue, where the entries start.
    const outboxes: [number, QueueKeys, number][] = [];
    for (const [queue, entries] of outcomes.parentAcks) {
      const keys = byQueue.get(queue)!;
      outboxes.push([commands.length, keys, 1]);
      commands.push(evalsha(this.scripts.get("ack_parents"),
        [keys.active(this.workerId), keys.releases, keys.stats, ...entries.map(([id]) => keys.parent(id))],
        [...entries.map(([id]) => id), ...entries.map(([, json]) => json)]));
      ended.push([queue, entries.map(([id]) => id)]);
    }
    for (const [queue, triples] of outcomes.parentBurials) {
      const keys = byQueue.get(queue)!;
      const ids = triples.filter((_, i) => i % 3 === 0).map((id) => id.toString());
      outboxes.push([commands.length, keys, 2]);
      commands.push(evalsha(this.scripts.get("bury"),
        [keys.active(this.workerId), keys.dead, keys.jobs, keys.stats, keys.gready, keys.releases, ...ids.map((id) => keys.parent(id))],
        [DEAD_MAX_JOBS, DEAD_MAX_AGE_MS, ...triples]));
      ended.push([queue, ids]);
    }
    // Last of the ending calls: jobs left queues with flow limits, so a worker waiting for a slot asks again.
    for (const queue of new Set(ended.map(([queue]) => queue))) {
      const flow = this.flow.get(queue);
      if (flow?.active) commands.push(flow.wakeWaiters(this.scripts));
    }
    commands.push(...outcomes.statuses);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const replies = await run(this.redis, commands);
        await this.applyOutboxes(outboxes, replies);
        break;
      } catch (err) { // retried: the scripts act only on jobs still held, so a repeat changes nothing
        log.warn(`recording outcomes failed (attempt ${attempt + 1}): ${(err as Error).message}`);
        await sleep(200 * (attempt + 1));
      }
    }
    return ended;
  }

  /** `P:{Q}:gready` when the queue's batch holds keyed jobs (the ending scripts then release their flow keys). */
  private flowReady(outcomes: Outcomes, keys: QueueKeys): string[] {
    return outcomes.keyed.has(keys.queue) ? [keys.gready] : [];
  }

  /** Releases the children of the parents whose ends the scripts just filed. */
  private async applyOutboxes(outboxes: [number, QueueKeys, number][], replies: unknown[]): Promise<void> {
    for (const [index, keys, first] of outboxes) {
      for (const entry of (replies[index] as unknown[]).slice(first).map(text)) {
        try {
          await applyRelease(this.redis, this.scripts, this.prefix, keys, entry);
        } catch (err) { // the entry stays in the outbox: the reaper's sweep applies it
          log.warn(`releasing the children of ${entry} on ${keys.queue} failed: ${(err as Error).message}`);
        }
      }
    }
  }
}
