/**
 * The worker: the worker contract of docs/protocol.md.
 *
 * It leases jobs with `fetch.lua` under a lease renewed by `heartbeat.lua`
 * (`fetch_limited.lua` for a queue with flow limits or keyed jobs, whose
 * keyed jobs end with the scripts that release their flow keys: flow.ts),
 * runs them with at most `concurrency` at once, records outcomes in batches
 * (`ack.lua`, `retry.lua`, `bury.lua`: one pipelined round trip per flush),
 * promotes due jobs (`promote.lua`), reclaims the jobs of workers whose lease
 * lapsed (`expired_leases.lua` + `reclaim.lua`), publishes itself in
 * `P:worker:<wid>` (language `typescript`) for the dashboard, stops a job an
 * operator cancelled (`c<id>` on the events channel), and on SIGTERM /
 * SIGINT stops fetching, lets running jobs finish within a grace period and
 * hands everything else back (`handback.lua`).
 */

import { hostname } from "node:os";

import type { Redis } from "ioredis";

import { type Command, command, evalsha, run, runOne, text } from "./commands.js";
import { FlowLimits } from "./flow.js";
import { QueueKeys, checkName, checkPrefix, workerInfoKey, workersKey } from "./keys.js";
import { Logger } from "./log.js";
import { MAX_PROGRESS_MESSAGE_BYTES, OutcomeRecorder, PENDING_STATUS_TTL_MS } from "./outcomes.js";
import {
  Backoff, DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_MS, type Envelope, MalformedRecord,
  malformedRecord, randomBelow, randomHex, recordId, splitRecord, truncateUtf8,
} from "./record.js";
import { applyRelease, sweepReleases } from "./releases.js";
import { type Scripts, sharedScripts } from "./scripts.js";
import { Flag, sleep, waitAny } from "./signal.js";
import { VERSION } from "./version.js";

const log = new Logger("jobqueue.worker");

/**
 * Envelope members of features this worker does not run yet: such jobs are
 * handed back untouched for a Rust worker (docs/other-languages.md).
 */
export const UNSUPPORTED_MEMBERS = ["batch", "workflow"] as const;
/** Expired set bounds passed to expire.lua (the Rust defaults). */
export const EXPIRED_MAX_JOBS = 10_000;
export const EXPIRED_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * Thrown by a handler for a failure that retrying cannot fix: the job goes
 * to the dead set at once, with this message.
 */
export class PermanentError extends Error {
  override name = "PermanentError";
}

/** What a handler learns about the run. */
export interface JobContext {
  /** The job's id (as leased). */
  readonly id: string;
  /** Its job type. */
  readonly type: string;
  /** The queue it came from. */
  readonly queue: string;
  /** This run's number, from 1. */
  readonly attempt: number;
  /** Attempts before the job is dead. */
  readonly maxAttempts: number;
  /** The decoded envelope (`version`, `tags`, `errors`, …). */
  readonly envelope: Envelope;
  /**
   * Aborted when the run must stop: its time limit passed, an operator
   * cancelled the job, or the worker shuts down past its grace period. The
   * worker stops waiting for the handler then; a handler that does long
   * work should pass it on (`fetch(url, { signal })`) or check it.
   */
  readonly signal: AbortSignal;
  /**
   * Reports progress (0–100, clamped, and a short message, cut at 512
   * bytes) in the job's status, readable at once with the Rust
   * `Client::status` (as its `set_progress`). A job that reports progress
   * gets a status whether or not it was enqueued tracked.
   */
  progress(percent: number, message?: string): Promise<void>;
}

/** A job handler: `payload` is the decoded JSON; what it returns is the job's result. */
export type Handler = (payload: any, ctx: JobContext) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A job type's defaults (the Rust `Job` constants). */
export interface JobTypeOptions {
  /** Attempts before the job is dead (default 25). */
  maxAttempts?: number;
  /** Time limit of one run, ms (default 30 minutes); 0: none. */
  timeoutMs?: number;
  /** Retry backoff (default 15 s doubling to 2 days, ± 25 %). */
  backoff?: Backoff;
}

interface JobType {
  handler: Handler;
  maxAttempts: number;
  timeoutMs: number;
  backoff: Backoff;
}

/** Options of a {@link Worker}. */
export interface WorkerOptions {
  /** Queues served, in fetch order (default `["default"]`). */
  queues?: readonly string[];
  /** Key prefix (default `jq`). */
  prefix?: string;
  /** Jobs run at once (default 10). */
  concurrency?: number;
  /** Lease on each queue, ms (default 30 s); renewed every lease/6. */
  leaseMs?: number;
  /** Most jobs per fetch.lua call (default 100, at most 1,000). */
  fetchBatch?: number;
  /**
   * Leased jobs held beyond the free slots: `"auto"` (default) while jobs are
   * shorter than a fetch round trip, or always this many (0: never).
   */
  prefetch?: "auto" | number;
  /** Fetch every queue found empty this often even without a wake-up, ms (default 2 s). */
  idlePollMs?: number;
  /**
   * How soon a queue held back by its running limit is asked again if no
   * freed slot woke the worker first, ms (default 50).
   */
  limitRecheckMs?: number;
  /** Look for other workers' lapsed leases this often, ms (default 5 s, jittered). */
  reapIntervalMs?: number;
  /** On stop, how long running jobs may finish, ms (default 25 s). */
  shutdownGraceMs?: number;
  /** TTL of a finished job's status, ms (default 5 minutes). */
  statusTtlMs?: number;
  /** The language written in the worker hash (default `typescript`). */
  language?: string;
  /** Another copy of the scripts (tests). */
  scripts?: Scripts;
}

/** Why a run was stopped from outside. */
class Interrupted extends Error {
  constructor(readonly why: "timeout" | "cancelled" | "shutdown") {
    super(why);
  }
}

/**
 * A job this worker runs. Its AbortController is made only when the handler
 * reads `ctx.signal` (most never do, and one per job costs a drain a tenth
 * of its speed); the worker stops waiting through `interrupt`.
 */
class RunningJob {
  private controller: AbortController | undefined;
  /** Why the run was stopped from outside, once it was. */
  interrupted: Interrupted | undefined;
  /** Rejects the wait for the handler (set while it runs). */
  onInterrupt: ((reason: Interrupted) => void) | undefined;

  constructor(readonly queue: string) {}

  /** The signal handed to the handler (aborted already if the run was stopped). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.interrupted) this.controller.abort(this.interrupted);
    }
    return this.controller.signal;
  }

  /** Stops the run: aborts its signal and stops waiting for the handler. */
  interrupt(reason: Interrupted): void {
    if (this.interrupted) return;
    this.interrupted = reason;
    this.controller?.abort(reason);
    this.onInterrupt?.(reason);
  }
}

/** An exponentially weighted moving average (weight 1/8 for the new sample). */
function ewma(average: number | undefined, sample: number): number {
  return average === undefined ? sample : average + (sample - average) / 8;
}

/** The error's type and message, then its stack trace (cut later to 2,048 bytes). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return `Error: ${String(err)}`;
  const header = `${err.name}: ${err.message}`;
  const stack = err.stack ?? "";
  // V8's stack starts with "<name>: <message>"; keep only the frames after it.
  const frames = stack.split("\n").filter((line) => /^\s+at /.test(line)).join("\n");
  return frames ? `${header}\n${frames}` : header;
}

/**
 * A worker serving `queues` of one prefix.
 *
 * ```ts
 * const worker = new Worker(new Redis(url), { queues: ["default"], concurrency: 20 });
 * worker.register("send_email", async (payload, ctx) => { ... }, { maxAttempts: 5 });
 * await worker.run();   // until SIGTERM / SIGINT or worker.stop()
 * ```
 */
export class Worker {
  readonly redis: Redis;
  readonly prefix: string;
  readonly queues: QueueKeys[];
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly fetchBatch: number;
  readonly prefetch: "auto" | number;
  readonly idlePollMs: number;
  readonly limitRecheckMs: number;
  readonly reapIntervalMs: number;
  shutdownGraceMs: number;
  readonly statusTtlMs: number;
  readonly language: string;
  readonly scripts: Scripts;
  /** `<host>-<pid>-<8 hex digits>`, unique per process start. */
  readonly id: string;
  readonly startedAtMs = Date.now();
  private readonly jobTypes = new Map<string, JobType>();
  private readonly stopping = new Flag();
  private readonly halt = new Flag();
  private readonly wake = new Flag();
  private readonly promoteNow = new Flag();
  private readonly slotFreed = new Flag();
  private readonly recorder: OutcomeRecorder;
  private draining = false;
  private readonly running = new Map<string, RunningJob>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly held = new Map<string, Set<string>>();
  private readonly backedOff = new Map<string, number>();
  private beaten = false;
  /** Leased jobs waiting for a slot (see {@link prefetchTarget}). */
  private readonly buffer: [QueueKeys, Buffer, boolean][] = [];
  /** Each queue's flow-limit state, by queue name. */
  private readonly flow = new Map<string, FlowLimits>();
  /** Moving averages of a job's run and of a fetch round trip, µs. */
  private jobTimeUs: number | undefined;
  private fetchTimeUs: number | undefined;
  private subscriber: Redis | undefined;

  constructor(redis: Redis, options: WorkerOptions = {}) {
    this.redis = redis;
    this.prefix = checkPrefix(options.prefix ?? "jq");
    const queues = options.queues ?? ["default"];
    if (queues.length === 0) throw new Error("a worker serves at least one queue");
    this.queues = queues.map((queue) => new QueueKeys(this.prefix, checkName("queue", queue)));
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 10));
    this.leaseMs = options.leaseMs ?? 30_000;
    this.fetchBatch = Math.max(1, Math.min(options.fetchBatch ?? 100, 1000));
    this.prefetch = options.prefetch ?? "auto";
    this.idlePollMs = options.idlePollMs ?? 2_000;
    this.limitRecheckMs = Math.max(1, options.limitRecheckMs ?? 50);
    this.reapIntervalMs = options.reapIntervalMs ?? 5_000;
    this.shutdownGraceMs = options.shutdownGraceMs ?? 25_000;
    this.statusTtlMs = options.statusTtlMs ?? 300_000;
    this.language = options.language ?? "typescript";
    this.scripts = options.scripts ?? sharedScripts();
    this.id = `${hostname()}-${process.pid}-${randomHex(4)}`;
    for (const keys of this.queues) {
      this.held.set(keys.queue, new Set());
      this.flow.set(keys.queue, new FlowLimits(keys));
    }
    this.recorder = new OutcomeRecorder(redis, this.scripts, this.prefix, this.id,
      new Map(this.queues.map((q) => [q.queue, q])), this.statusTtlMs, this.flow);
  }

  // -- registration ------------------------------------------------------

  /**
   * Runs jobs of `type` with `handler(payload, ctx)`. Returning ends the job
   * (a value other than undefined/null is kept, as JSON, as the job's result
   * in its status); throwing fails the attempt ({@link PermanentError}: no retry).
   */
  register(type: string, handler: Handler, options: JobTypeOptions = {}): this {
    this.jobTypes.set(checkName("job type", type), {
      handler,
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
    });
    return this;
  }

  /** Jobs running now. */
  get busy(): number {
    return this.running.size;
  }

  /** True while no job runs or waits in the buffer and no outcome waits to be written. */
  get idle(): boolean {
    return this.running.size === 0 && this.buffer.length === 0 && this.recorder.empty;
  }

  /** Asks the worker to stop (what SIGTERM does). */
  stop(): void {
    this.stopping.set();
    this.wake.set();
    this.slotFreed.set();
  }

  // -- the run -----------------------------------------------------------

  /**
   * Serves the queues until {@link stop} (or SIGTERM / SIGINT with
   * `installSignalHandlers`), then shuts down gracefully. `onReady` is
   * called once the worker is registered and its fetch loop starts.
   */
  async run(options: { installSignalHandlers?: boolean; onReady?: () => void } = {}): Promise<void> {
    const install = options.installSignalHandlers ?? true;
    const onSignal = (): void => this.stop();
    if (install) {
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
    }
    try {
      await this.heartbeat();
      await this.subscribe();
      await this.loadLimits(); // after subscribing: an `l` published meanwhile is not missed
      const loops = [this.heartbeatLoop(), this.promoteLoop(), this.reapLoop()];
      const writer = this.outcomeLoop();
      log.info(`worker ${this.id} serving ${this.queues.map((q) => q.queue).join(",")}`);
      options.onReady?.();
      try {
        await this.fetchLoop();
      } finally {
        await this.shutdown(loops, writer);
      }
    } finally {
      if (install) {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
    }
  }

  /**
   * Jobs this worker may hold leased beyond its free slots: while jobs are
   * shorter than a fetch round trip, enough to keep every slot busy for two
   * round trips (at most one fetch batch), so short jobs never wait for a
   * round trip; none once jobs take longer, when prefetched jobs would only
   * wait here while another worker could run them (the Rust worker's
   * `Prefetch::Auto`).
   */
  private prefetchTarget(): number {
    if (this.prefetch !== "auto") return Math.max(0, Math.min(Math.floor(this.prefetch), this.fetchBatch));
    if (this.jobTimeUs === undefined || this.fetchTimeUs === undefined) return 0;
    const jobTimeUs = Math.max(this.jobTimeUs, 1);
    if (jobTimeUs >= this.fetchTimeUs) return 0;
    return Math.min(Math.floor((this.fetchTimeUs / jobTimeUs) * 2 * this.concurrency), this.fetchBatch);
  }

  private async fetchLoop(): Promise<void> {
    while (!this.stopping.value) {
      let gotAny = false;
      let full = false;
      // Cleared before the round: a wake-up that comes during it is kept.
      this.wake.clear();
      let heldUntil = Infinity;
      for (const keys of this.queues) {
        if (this.stopping.value) break;
        if ((this.backedOff.get(keys.queue) ?? 0) > Date.now()) continue;
        const flow = this.flow.get(keys.queue)!;
        const limited = flow.active;
        if (limited && flow.heldAt(Date.now())) {
          heldUntil = Math.min(heldUntil, flow.heldUntil);
          continue;
        }
        const prefetch = this.prefetchTarget();
        // Fetch once the buffer ran below half the prefetch (empty, without prefetch) and a slot is free or will be.
        const room = this.concurrency + prefetch - this.running.size - this.buffer.length;
        if (room <= 0 || this.buffer.length > prefetch / 2) {
          full = true;
          break;
        }
        const records = await this.fetch(keys, Math.min(room, this.fetchBatch), limited);
        if (limited && flow.heldAt(Date.now())) heldUntil = Math.min(heldUntil, flow.heldUntil);
        for (const record of records) {
          gotAny = true;
          this.held.get(keys.queue)!.add(recordId(record));
          this.buffer.push([keys, record, limited]);
        }
        this.startBuffered();
      }
      if (this.stopping.value) break;
      if (full) {
        this.slotFreed.clear();
        await waitAny([this.slotFreed]);
      } else if (!gotAny) {
        // A queue held back by its limits is asked again when they may allow more (or a wake-up comes).
        await waitAny([this.wake], Math.max(1, Math.min(this.idlePollMs, heldUntil - Date.now())));
      }
    }
    // Leased but never started: they stay in the active hash, which the shutdown hands back.
    this.buffer.length = 0;
  }

  /**
   * Leases up to `count` jobs of queue `keys`: `fetch_limited.lua` when the
   * queue has flow limits or keyed jobs (`limited`; its flow state then
   * notes a hold), plain `fetch.lua` otherwise.
   */
  private async fetch(keys: QueueKeys, count: number, limited: boolean): Promise<Buffer[]> {
    const call = evalsha(this.scripts.get("fetch"),
      [keys.ready, keys.priority, keys.active(this.id), keys.leases, keys.paused], [this.id, count], true);
    const flow = this.flow.get(keys.queue)!;
    for (let round = 0; round < 2; round++) {
      try {
        const started = process.hrtime.bigint();
        const reply = limited
          ? await flow.fetch(this.redis, this.scripts, this.id, count, this.limitRecheckMs)
          : (await runOne(this.redis, call)) as unknown[];
        this.fetchTimeUs = ewma(this.fetchTimeUs, Number(process.hrtime.bigint() - started) / 1000);
        const status = Number(reply[0]);
        if (status === 0) return reply.slice(1) as Buffer[];
        if (status === 2) { // no lease (it lapsed): beat, then fetch again
          await this.heartbeat();
          continue;
        }
        return []; // paused, or held back by the flow limits (status 3)
      } catch (err) { // a lost reply: reconcile, then go on
        log.warn(`fetch from ${keys.queue} failed: ${(err as Error).message}`);
        await this.reconcile(keys);
        await sleep(500);
        return [];
      }
    }
    return [];
  }

  /** Starts buffered jobs while slots are free. */
  private startBuffered(): void {
    while (this.running.size < this.concurrency && this.buffer.length > 0 && !this.stopping.value) {
      const [keys, record, limited] = this.buffer.shift()!;
      this.start(keys, record, limited);
    }
  }

  private start(keys: QueueKeys, record: Buffer, limited: boolean): void {
    const jobId = recordId(record);
    const entry = new RunningJob(keys.queue);
    this.running.set(jobId, entry);
    const started = process.hrtime.bigint();
    const task = this.runJob(keys, record, entry, limited)
      .catch((err: unknown) => log.error(`job ${jobId} on ${keys.queue}: ${describeError(err)}`))
      .finally(() => {
        this.jobTimeUs = ewma(this.jobTimeUs, Number(process.hrtime.bigint() - started) / 1000);
        if (this.running.get(jobId) === entry) this.running.delete(jobId);
        this.tasks.delete(task);
        this.startBuffered();
        this.slotFreed.set();
      });
    this.tasks.add(task);
  }

  /**
   * `c<id>`: an operator cancelled the job (cancel.lua already took it out of
   * the active hash): stop it, or drop it from the buffer if it has not
   * started; its outcome calls would change nothing.
   */
  private cancel(jobId: string): void {
    const buffered = this.buffer.findIndex(([, record]) => recordId(record) === jobId);
    if (buffered >= 0) {
      const [[keys]] = this.buffer.splice(buffered, 1);
      this.held.get(keys!.queue)?.delete(jobId);
      log.info(`job ${jobId} cancelled by an operator before it started`);
      return;
    }
    const entry = this.running.get(jobId);
    if (!entry) return;
    log.info(`job ${jobId} cancelled by an operator: stopping it`);
    entry.interrupt(new Interrupted("cancelled"));
    this.held.get(entry.queue)?.delete(jobId);
  }

  // -- one job -----------------------------------------------------------

  /**
   * Runs one leased job and records how it ended. `limited`: it was leased
   * by `fetch_limited.lua`, so a job with a flow key holds its key until
   * its ending script releases it.
   */
  private async runJob(keys: QueueKeys, record: Buffer, entry: RunningJob, limited: boolean): Promise<void> {
    const leasedId = recordId(record);
    let envelope: Envelope;
    let payloadBytes: Buffer;
    try {
      ({ envelope, payload: payloadBytes } = splitRecord(record));
    } catch (err) {
      if (!(err instanceof MalformedRecord)) throw err;
      const dead = malformedRecord(record, err.message);
      // Its flow key, if any, cannot be read here: bury.lua releases it from the leased record.
      this.recorder.bury(keys, leasedId, dead.deadId, dead.record, limited);
      return;
    }
    const keyed = limited && typeof envelope.flow === "string";
    const unsupported = UNSUPPORTED_MEMBERS.filter((member) => member in envelope);
    if (unsupported.length > 0) {
      log.warn(`job ${leasedId} uses ${unsupported.join(",")}, which this worker does not run: handed back`);
      this.backedOff.set(keys.queue, Date.now() + this.idlePollMs);
      await this.handBack(keys, [leasedId], false);
      return;
    }
    const expiresAt = envelope.expires_at;
    if (typeof expiresAt === "number" && expiresAt <= Date.now()
        && await this.expire(keys, leasedId, expiresAt, envelope.unique, envelope.dependents === true)) {
      return; // not started in time: dropped as expired (Redis's clock decided)
    }
    const jobType = this.jobTypes.get(envelope.type);
    const attempt = (Number(envelope.attempt) || 0) + 1;
    const maxAttempts = Number(envelope.max_attempts) || (jobType ? jobType.maxAttempts : DEFAULT_MAX_ATTEMPTS);
    let reported = false; // the handler reported progress: its end goes to the status too
    const fail = (runAttempt: number, kind: string, message: string, final: boolean, backoff?: Backoff): void =>
      this.recorder.fail(keys, leasedId, envelope, payloadBytes, runAttempt, kind, message, final, keyed, backoff,
        reported);
    if (!jobType) {
      const known = [...this.jobTypes.keys()].sort().join(", ") || "none";
      fail(attempt, "unknown_type", `no handler registered for job type ${JSON.stringify(envelope.type)} `
        + `on this TypeScript worker (registered: ${known})`, true);
      return;
    }
    if (attempt > maxAttempts) {
      fail(attempt - 1, "exhausted", `attempt ${attempt} exceeds the limit of ${maxAttempts} attempts; the runs `
        + "after the last recorded error were lost with their worker (lease expired)", true);
      return;
    }
    if (envelope.enc !== undefined && envelope.enc !== null) {
      // A compressed or encrypted payload (docs/payload-encoding.md) is a JSON
      // string of base64: running the handler on it would mis-run the job.
      fail(attempt, "payload", `the payload is encoded (${String(envelope.enc).slice(0, 80)}); this `
        + "TypeScript worker reads only plain payloads: run this job type on a Rust worker holding "
        + "the payload keys", true);
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(payloadBytes.toString("utf8"));
    } catch (err) {
      fail(attempt, "payload", `payload is not JSON: ${(err as Error).message}`, true);
      return;
    }
    if (entry.interrupted) return; // cancelled before it started
    const tracked = envelope.track === true;
    const ctx: JobContext = {
      id: leasedId, type: envelope.type, queue: keys.queue, attempt, maxAttempts, envelope,
      get signal() { return entry.signal; },
      progress: (percent: number, message = ""): Promise<void> => {
        reported = true;
        return this.reportProgress(keys, leasedId, tracked, percent, message);
      },
    };
    if (tracked) await this.statusStarted(keys, leasedId);
    const timeoutMs = typeof envelope.timeout_ms === "number" && envelope.timeout_ms > 0
      ? envelope.timeout_ms : jobType.timeoutMs;
    let result: unknown;
    try {
      result = await this.call(jobType.handler, payload, ctx, entry, timeoutMs);
    } catch (err) {
      if (err instanceof Interrupted) {
        if (err.why === "timeout") {
          fail(attempt, "timeout", `timed out after ${timeoutMs / 1000} s`, attempt >= maxAttempts, jobType.backoff);
        }
        // cancelled: cancel.lua took the job; shutdown: handed back. Nothing to record.
        return;
      }
      if (err instanceof PermanentError) {
        fail(attempt, "error", describeError(err), true);
        return;
      }
      fail(attempt, "error", describeError(err), attempt >= maxAttempts, jobType.backoff);
      return;
    }
    if (envelope.dependents === true) {
      this.recorder.ackParent(keys, leasedId, result);
    } else {
      this.recorder.ack(keys, leasedId, typeof envelope.unique === "string" ? envelope.unique : undefined, keyed);
    }
    if (tracked || reported || (result !== undefined && result !== null)) {
      this.recorder.status(keys, leasedId, "succeeded", { result });
    }
  }

  /** Runs the handler until it settles, its time limit passes, or the run is interrupted. */
  private call(handler: Handler, payload: unknown, ctx: JobContext, entry: RunningJob,
    timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (entry.interrupted) {
        reject(entry.interrupted);
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        entry.onInterrupt = undefined;
      };
      entry.onInterrupt = (reason) => { settle(); reject(reason); };
      if (timeoutMs > 0) timer = setTimeout(() => entry.interrupt(new Interrupted("timeout")), timeoutMs);
      Promise.resolve()
        .then(() => handler(payload, ctx))
        .then((value) => { settle(); resolve(value); }, (err: unknown) => { settle(); reject(err); });
    });
  }

  /** Offers the job to expire.lua; true when it was dropped as expired. */
  private async expire(keys: QueueKeys, jobId: string, expiresAt: number, unique: unknown,
    dependents: boolean): Promise<boolean> {
    const lock = typeof unique === "string" ? [keys.unique(unique)] : [];
    const parent = dependents ? [keys.releases, keys.parent(jobId)] : [];
    const dropped = await runOne(this.redis, evalsha(this.scripts.get("expire"),
      [keys.active(this.id), keys.expired, keys.jobs, keys.stats, ...parent, ...lock],
      [jobId, expiresAt, EXPIRED_MAX_JOBS, EXPIRED_MAX_AGE_MS, dependents ? 1 : 0]));
    if (Number(dropped) === 1) {
      this.held.get(keys.queue)!.delete(jobId);
      await this.wakeWaiters(keys);
      // A job with dependents that expired is a dead parent.
      if (dependents) await applyRelease(this.redis, this.scripts, this.prefix, keys, `${jobId}|failed`);
      return true;
    }
    return false;
  }

  /**
   * What `ctx.progress` writes: `running` with `percent`, `message` and
   * `stale` 0 (TTL 7 days for a tracked job, else `statusTtlMs`).
   */
  private async reportProgress(keys: QueueKeys, jobId: string, tracked: boolean, percent: number,
    message: string): Promise<void> {
    const clamped = Math.min(Math.max(Math.trunc(Number(percent) || 0), 0), 100);
    const key = keys.status(jobId);
    await run(this.redis, [
      command("HSET", key, "updated_at", Date.now(), "state", "running", "percent", clamped,
        "message", truncateUtf8(String(message), MAX_PROGRESS_MESSAGE_BYTES), "stale", 0),
      command("PEXPIRE", key, tracked ? PENDING_STATUS_TTL_MS : this.statusTtlMs),
    ]);
  }

  /** A tracked job's status becomes `running` as it starts. */
  private async statusStarted(keys: QueueKeys, jobId: string): Promise<void> {
    const key = keys.status(jobId);
    try {
      await run(this.redis, [
        command("HSET", key, "updated_at", Date.now(), "state", "running"),
        command("PEXPIRE", key, PENDING_STATUS_TTL_MS),
      ]);
    } catch (err) { // a status is a report, not the job
      log.debug(`could not mark job ${jobId} running: ${(err as Error).message}`);
    }
  }

  // -- outcomes ----------------------------------------------------------

  private async outcomeLoop(): Promise<void> {
    while (!(this.draining && this.recorder.empty)) {
      await waitAny([this.recorder.ready]);
      this.recorder.ready.clear();
      for (const [queue, ids] of await this.recorder.flush()) {
        const held = this.held.get(queue)!;
        for (const id of ids) held.delete(id);
      }
    }
  }

  // -- housekeeping ------------------------------------------------------

  private async heartbeat(): Promise<void> {
    const now = Date.now();
    const info = workerInfoKey(this.prefix, this.id);
    const commands = this.queues.map((q) => evalsha(this.scripts.get("heartbeat"), [q.leases], [this.id, this.leaseMs]));
    commands.push(
      command("HSET", info, ...this.infoFields(now)),
      command("PEXPIRE", info, this.leaseMs),
      command("ZADD", workersKey(this.prefix), now, this.id),
    );
    const replies = await run(this.redis, commands);
    if (this.beaten && replies.slice(0, this.queues.length).some((reply) => Number(reply) === 0)) {
      log.warn(`worker ${this.id} lost its lease: its jobs were reclaimed and may run twice`);
    }
    this.beaten = true;
  }

  private infoFields(now: number): (string | number)[] {
    const fields: Record<string, string | number> = {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      queues: this.queues.map((q) => q.queue).join(","),
      concurrency: this.concurrency,
      busy: this.running.size,
      started_at: this.startedAtMs,
      last_beat_at: now,
      version: `${VERSION} (node ${process.version})`,
      language: this.language,
      stopping: this.stopping.value ? 1 : 0,
    };
    return Object.entries(fields).flat();
  }

  private async heartbeatLoop(): Promise<void> {
    while (!this.halt.value) {
      await waitAny([this.halt], this.leaseMs / 6);
      if (this.halt.value) break;
      try {
        await this.heartbeat();
        await this.loadLimits(); // in case an `l` message was lost
      } catch (err) { // the next beat tries again
        log.warn(`heartbeat failed: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Wake-ups from the queues' events channels, on a connection of their own
   * (ioredis subscribes again after a reconnect; meanwhile the idle poll and
   * the promoter's own timer cover).
   */
  private async subscribe(): Promise<void> {
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on("error", (err: Error) => log.warn(`events subscription: ${err.message}`));
    subscriber.on("ready", () => { // anything published while unsubscribed
      this.wake.set();
      this.promoteNow.set();
    });
    const byChannel = new Map(this.queues.map((q) => [q.events, this.flow.get(q.queue)!]));
    subscriber.on("message", (channel: string, message: string) => {
      const flow = byChannel.get(channel);
      // A slot freed or work arrived: whatever held the queue back is worth asking about again.
      if (message === "r" || message === "w" || message.startsWith("c")) flow?.release();
      if (message === "r" || message === "u" || message === "w") this.wake.set();
      else if (message === "s") this.promoteNow.set();
      else if (message === "l" && flow) this.reloadLimits(flow);
      else if (message.startsWith("c")) this.cancel(message.slice(1));
    });
    await subscriber.subscribe(...this.queues.map((q) => q.events));
  }

  /** Loads every queue's flow limits (start, heartbeat); wakes the fetcher for a queue switched on or off. */
  private async loadLimits(): Promise<void> {
    for (const flow of this.flow.values()) {
      if (await flow.load(this.redis)) this.wake.set();
    }
  }

  /** `l`: the queue's limits changed (or it got its first keyed job). */
  private reloadLimits(flow: FlowLimits): void {
    flow.load(this.redis, true)
      .then(() => this.wake.set())
      .catch((err: unknown) => log.warn(`loading the limits of ${flow.keys.queue} failed: ${(err as Error).message}`));
  }

  /**
   * Jobs left queue `keys` (hand-back, reclaim, expiry): on a queue with flow
   * limits, `wake_waiters.lua` wakes the workers waiting for a slot.
   */
  private async wakeWaiters(keys: QueueKeys): Promise<void> {
    const flow = this.flow.get(keys.queue)!;
    if (!flow.active) return;
    try {
      await runOne(this.redis, flow.wakeWaiters(this.scripts));
    } catch (err) { // the waiting workers ask again after their recheck interval
      log.warn(`waking the workers waiting on ${keys.queue} failed: ${(err as Error).message}`);
    }
  }

  private async promoteLoop(): Promise<void> {
    while (!this.halt.value) {
      let wait = this.idlePollMs * 5;
      for (const keys of this.queues) {
        let reply: unknown[];
        try {
          reply = (await runOne(this.redis, evalsha(this.scripts.get("promote"),
            [keys.scheduled, keys.retry, keys.jobs, keys.ready, keys.priority], [keys.events, 1000]))) as unknown[];
        } catch (err) { // tried again on the next round
          log.warn(`promote on ${keys.queue} failed: ${(err as Error).message}`);
          continue;
        }
        const moved = Number(reply[0]);
        const nextAt = text(reply[1]);
        const now = Number(text(reply[2]));
        if (moved >= 1000) wait = 0;
        else if (nextAt !== "") wait = Math.min(wait, Math.max(0, Number(nextAt) - now));
      }
      this.promoteNow.clear();
      await waitAny([this.promoteNow, this.halt], wait);
    }
  }

  private async reapLoop(): Promise<void> {
    while (!this.halt.value) {
      await waitAny([this.halt], this.reapIntervalMs * (0.8 + (0.4 * randomBelow(1000)) / 1000));
      if (this.halt.value) break;
      try {
        await this.reap();
      } catch (err) { // tried again on the next round
        log.warn(`reaping failed: ${(err as Error).message}`);
      }
    }
  }

  /** Puts back the jobs of other workers whose lease lapsed; drops workers whose hash expired. */
  async reap(): Promise<void> {
    for (const keys of this.queues) {
      const lapsed = (await runOne(this.redis, evalsha(this.scripts.get("expired_leases"), [keys.leases], [100]))) as unknown[];
      for (const wid of lapsed.map(text)) {
        if (wid === this.id) continue;
        const moved = Number(await runOne(this.redis, evalsha(this.scripts.get("reclaim"),
          [keys.leases, keys.active(wid), keys.ready, keys.stats], [wid, keys.events])));
        if (moved > 0) {
          log.info(`reclaimed ${moved} jobs of lapsed worker ${wid} on ${keys.queue}`);
          await this.wakeWaiters(keys);
        }
      }
      await sweepReleases(this.redis, this.scripts, this.prefix, keys);
    }
    const registry = workersKey(this.prefix);
    const members = (await this.redis.zrange(registry, 0, 999));
    if (members.length > 0) {
      const alive = await run(this.redis, members.map((m) => command("EXISTS", workerInfoKey(this.prefix, m))));
      const gone = members.filter((_, i) => Number(alive[i]) === 0);
      if (gone.length > 0) await this.redis.zrem(registry, ...gone);
    }
  }

  /** Hands back jobs in the active hash this worker never received (a lost fetch reply). */
  private async reconcile(keys: QueueKeys): Promise<void> {
    try {
      const leased = await this.redis.hkeys(keys.active(this.id));
      const held = this.held.get(keys.queue)!;
      const strays = leased.filter((id) => !held.has(id)).sort();
      if (strays.length > 0) await this.handBack(keys, strays, false);
    } catch (err) { // the next failed fetch tries again
      log.warn(`reconciling ${keys.queue} failed: ${(err as Error).message}`);
    }
  }

  private async handBack(keys: QueueKeys, ids: readonly string[], release: boolean): Promise<number> {
    const calls: Command[] = [evalsha(this.scripts.get("handback"),
      [keys.active(this.id), keys.ready, keys.leases], [this.id, keys.events, release ? 1 : 0, ...ids])];
    const flow = this.flow.get(keys.queue)!;
    if (flow.active) calls.push(flow.wakeWaiters(this.scripts));
    const [count] = await run(this.redis, calls);
    const held = this.held.get(keys.queue)!;
    for (const id of ids) held.delete(id);
    return Number(count);
  }

  private async shutdown(loops: Promise<void>[], writer: Promise<void>): Promise<void> {
    this.stopping.set();
    log.info(`worker ${this.id} stopping: ${this.running.size} jobs running`);
    try {
      await this.heartbeat(); // shows `stopping` in the dashboard
    } catch (err) {
      log.warn(`heartbeat failed: ${(err as Error).message}`);
    }
    if (this.tasks.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.tasks]),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, this.shutdownGraceMs); }),
      ]);
      clearTimeout(timer);
      // Past the grace: stop waiting for the rest; their jobs are handed back below.
      for (const entry of this.running.values()) entry.interrupt(new Interrupted("shutdown"));
      await Promise.allSettled([...this.tasks]);
    }
    this.halt.set();
    await Promise.allSettled(loops);
    // The outcome writer ends once everything recorded is written.
    this.draining = true;
    this.recorder.ready.set();
    await writer;
    for (const keys of this.queues) {
      // Everything still in the active hash (unstarted or cut short) goes back.
      try {
        const handed = await this.handBack(keys, [], true);
        if (handed > 0) log.info(`handed back ${handed} jobs on ${keys.queue}`);
      } catch (err) {
        log.warn(`handing back on ${keys.queue} failed: ${(err as Error).message}`);
      }
    }
    await run(this.redis, [
      command("DEL", workerInfoKey(this.prefix, this.id)),
      command("ZREM", workersKey(this.prefix), this.id),
    ]);
    if (this.subscriber) {
      this.subscriber.disconnect();
      this.subscriber = undefined;
    }
  }
}
