/**
 * Key names of one queue (docs/protocol.md, "Keys"). Every key of a queue
 * carries the `{queue}` hash tag; nothing formats a key name anywhere else.
 */

const NAME_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
const PREFIX_RE = /^[^{}\s]{1,64}$/;

/** A queue, job type or prefix that breaks the naming rules. */
export class InvalidName extends Error {
  override name = "InvalidName";
}

/** Returns `name` if it is 1-128 characters of `A-Z a-z 0-9 _ - . :`. */
export function checkName(what: string, name: string): string {
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    throw new InvalidName(`${what} ${JSON.stringify(name)} must be 1-128 characters of A-Z a-z 0-9 _ - . :`);
  }
  return name;
}

/** Returns `prefix` if it is 1-64 characters without braces or whitespace. */
export function checkPrefix(prefix: string): string {
  if (typeof prefix !== "string" || !PREFIX_RE.test(prefix)) {
    throw new InvalidName(`prefix ${JSON.stringify(prefix)} must be 1-64 characters without braces or whitespace`);
  }
  return prefix;
}

/** `P:queues`: the set of known queue names. */
export function queuesKey(prefix: string): string {
  return `${prefix}:queues`;
}

/** `P:workers`: worker id → last heartbeat. */
export function workersKey(prefix: string): string {
  return `${prefix}:workers`;
}

/** `P:worker:<wid>`: one worker's info hash. */
export function workerInfoKey(prefix: string, workerId: string): string {
  return `${prefix}:worker:${workerId}`;
}

/** The keys of queue `queue` under `prefix`; all share the `{queue}` hash tag. */
export class QueueKeys {
  readonly queue: string;
  readonly base: string;
  readonly ready: string;
  readonly priority: string;
  readonly scheduled: string;
  readonly retry: string;
  readonly dead: string;
  readonly expired: string;
  readonly jobs: string;
  readonly leases: string;
  readonly stats: string;
  readonly paused: string;
  readonly events: string;

  constructor(prefix: string, queue: string) {
    this.queue = checkName("queue", queue);
    const base = `${prefix}:{${queue}}`;
    this.base = base;
    this.ready = `${base}:ready`;
    this.priority = `${base}:priority`;
    this.scheduled = `${base}:scheduled`;
    this.retry = `${base}:retry`;
    this.dead = `${base}:dead`;
    this.expired = `${base}:expired`;
    this.jobs = `${base}:jobs`;
    this.leases = `${base}:leases`;
    this.stats = `${base}:stats`;
    this.paused = `${base}:paused`;
    this.events = `${base}:events`;
  }

  /** Flow keys ready to run (zset). */
  get gready(): string {
    return `${this.base}:gready`;
  }

  /** Marker set once the queue has had keyed jobs (string). */
  get flowMarker(): string {
    return `${this.base}:flow`;
  }

  /** Flow key → its jobs leased now (hash). */
  get grun(): string {
    return `${this.base}:grun`;
  }

  /** Key class → its limits, `max:rate:per_ms` (hash). */
  get glimits(): string {
    return `${this.base}:glimits`;
  }

  /** The queue's limits: `max_running`, `rate_limit`, `rate_ms`, `rate_mode` (hash). */
  get limits(): string {
    return `${this.base}:limits`;
  }

  /** Token bucket state of the queue's rate limit (hash). */
  get rate(): string {
    return `${this.base}:rate`;
  }

  /** Starts within a strict (sliding-window) rate limit (zset). */
  get window(): string {
    return `${this.base}:window`;
  }

  /** Present while a worker waits for a slot of the running limit (string). */
  get slotwait(): string {
    return `${this.base}:slotwait`;
  }

  /** Jobs waiting for their parents (zset). */
  get waiting(): string {
    return `${this.base}:waiting`;
  }

  /** The release outbox of jobs with dependents (zset). */
  get releases(): string {
    return `${this.base}:releases`;
  }

  /** A waiting job's dependency state. */
  deps(jobId: string): string {
    return `${this.base}:deps:${jobId}`;
  }

  /** The dependency record of a job enqueued with dependents. */
  parent(jobId: string): string {
    return `${this.base}:parent:${jobId}`;
  }

  /** The active hash of worker `workerId`. */
  active(workerId: string): string {
    return `${this.base}:active:${workerId}`;
  }

  /** The idempotency marker of a producer-given id. */
  idMarker(jobId: string): string {
    return `${this.base}:id:${jobId}`;
  }

  /** A tracked job's status hash. */
  status(jobId: string): string {
    return `${this.base}:status:${jobId}`;
  }

  /** An idempotency key's marker, named by the key's SHA-256 (hex). */
  idem(keyDigest: string): string {
    return `${this.base}:idem:${keyDigest}`;
  }

  /** A uniqueness lock. */
  unique(digest: string): string {
    return `${this.base}:unique:${digest}`;
  }
}
