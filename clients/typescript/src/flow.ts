/**
 * Flow control on the worker's side (docs/protocol.md, "Fetching";
 * docs/flow-control.md): what this worker knows of one queue's flow limits.
 *
 * A queue with limits (`P:{Q}:limits` has `max_running` or a rate) or that
 * has had keyed jobs (`P:{Q}:flow` exists) is fetched with
 * `fetch_limited.lua`, which alone decides what the limits allow, across
 * every worker process; this module only knows whether to call it, until
 * when its last answer holds the queue back, and the list of leasing workers
 * the script checks (the Rust worker's `state/flow_limits.rs` and
 * `limits_loader.rs`). Ending jobs of such a queue is followed by
 * `wake_waiters.lua` ({@link FlowLimits.wakeWaiters}).
 */

import type { Redis } from "ioredis";

import { type Command, command, evalsha, run, runOne, text } from "./commands.js";
import type { QueueKeys } from "./keys.js";
import type { Scripts } from "./scripts.js";

/** Corrections of the leasing workers' list before a fetch gives up (workers joining and leaving fast). */
const MAX_FETCH_TRIES = 5;

/** A decimal count, as the Rust worker reads the limits hash's fields. */
function count(value: string | null): number | undefined {
  return value !== null && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** One queue's flow-limit state in this worker. */
export class FlowLimits {
  /** True when the queue has limits or keyed jobs: it is fetched with `fetch_limited.lua`. */
  active = false;
  /** Until when (ms since the epoch) the limits' last answer holds the queue back. */
  private heldUntilMs = 0;
  /** The workers leasing on the queue, as last seen by `fetch_limited.lua`. */
  private workers: string[] = [];

  constructor(readonly keys: QueueKeys) {}

  /**
   * Reads the queue's limits and its keyed-jobs marker; returns true when
   * the queue's flow control was switched on or off (or `changed`: its
   * values changed, so whatever held the queue back no longer holds).
   */
  async load(redis: Redis, changed = false): Promise<boolean> {
    const [limits, marker] = await run(redis, [
      command("HMGET", this.keys.limits, "max_running", "rate_limit", "rate_ms"),
      command("EXISTS", this.keys.flowMarker),
    ]) as [(string | null)[], number];
    const [maxRunning, rateLimit, rateMs] = limits.map(count);
    const rated = (rateLimit ?? 0) > 0 && (rateMs ?? 0) > 0;
    const active = Number(marker) === 1 || maxRunning !== undefined || rated;
    const switched = active !== this.active;
    this.active = active;
    if (switched || changed) this.release();
    return switched || changed;
  }

  /** Whether the limits' last answer still holds the queue back. */
  heldAt(nowMs: number): boolean {
    return this.heldUntilMs > nowMs;
  }

  /** Until when the queue is held back (0: not held). */
  get heldUntil(): number {
    return this.heldUntilMs;
  }

  /** A slot freed or work arrived (`w`, `r`, `c` on the events channel): ask again. */
  release(): void {
    this.heldUntilMs = 0;
  }

  /**
   * Leases up to `max` jobs with `fetch_limited.lua`, passing the cached
   * leasing workers and asking again with the script's corrected list when
   * it was out of date. Returns the reply: `{0, record…}`, `{1}` paused,
   * `{2}` no lease, or `{3, ms}` (the queue is then held back that long).
   */
  async fetch(redis: Redis, scripts: Scripts, workerId: string, max: number, recheckMs: number): Promise<unknown[]> {
    const keys = this.keys;
    for (let attempt = 0; attempt < MAX_FETCH_TRIES; attempt++) {
      const call = evalsha(scripts.get("fetch_limited"), [
        keys.ready, keys.priority, keys.active(workerId), keys.leases, keys.paused, keys.limits, keys.rate,
        keys.gready, keys.grun, keys.glimits, keys.jobs, keys.slotwait, keys.window,
        ...this.workers.map((wid) => keys.active(wid)),
      ], [workerId, max, Math.max(1, Math.round(recheckMs)), ...this.workers], true);
      const reply = (await runOne(redis, call)) as unknown[];
      const status = Number(reply[0]);
      if (status === 4) {
        this.workers = reply.slice(1).map(text);
        continue;
      }
      if (status === 3) this.heldUntilMs = Date.now() + Math.max(1, Number(reply[1]));
      return reply;
    }
    throw new Error(`fetch from ${keys.queue}: the leasing workers kept changing; try again`);
  }

  /** `wake_waiters.lua`: wakes the workers waiting for a slot of the running limit (after jobs left). */
  wakeWaiters(scripts: Scripts): Command {
    return evalsha(scripts.get("wake_waiters"), [this.keys.slotwait], [this.keys.events]);
  }
}
