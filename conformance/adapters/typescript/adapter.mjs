#!/usr/bin/env node
// The TypeScript implementation's conformance adapter (conformance/ADAPTER.md).
//
//     node adapter.mjs worker --url URL --prefix P --queues q1,q2 --concurrency N
//                             [--lease-ms MS] [--shutdown-grace-ms MS] [--language-tag NAME]
//     node adapter.mjs produce --url URL --prefix P
//
// `worker` runs the package's real Worker (clients/typescript, built into
// dist/) with the conformance handlers and prints the ready line once the
// worker is registered and fetching; `produce` answers one JSON request per
// stdin line with the package's Client (`chain` with Client.chain). Every option of ADAPTER.md maps to one of the
// client's; an enqueue that found its job already there (a unique job's
// holder, a given id or idempotency key seen before) answers
// `"duplicate":true` with that job's id. Logs go to stderr only.
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

import {
  Backoff, Client, EnqueueError, InvalidName, PermanentError, Worker,
} from "../../../clients/typescript/dist/index.js";

/** Exit code of `conformance.crash`. */
const CRASH_EXIT_CODE = 3;

// -- worker ------------------------------------------------------------------

function messageOf(payload) {
  return typeof payload?.message === "string" ? payload.message : "conformance failure";
}

/** The conformance handlers, with their own Redis connection for `record`. */
function registerHandlers(worker, language) {
  const recorder = worker.redis.duplicate();
  const recordRun = async (payload, ctx) => {
    if (typeof payload?.key === "string") {
      await recorder.rpush(payload.key, JSON.stringify({ id: ctx.id, attempt: ctx.attempt, language, at_ms: Date.now() }));
    }
  };
  worker.register("conformance.echo", (payload) => payload);
  worker.register("conformance.record", async (payload, ctx) => { await recordRun(payload, ctx); return null; });
  worker.register("conformance.fail", (payload, ctx) => {
    const succeedOn = payload?.succeed_on_attempt;
    if (Number.isInteger(succeedOn) && ctx.attempt >= succeedOn) return { attempt: ctx.attempt };
    throw new Error(messageOf(payload));
  });
  worker.register("conformance.permanent", (payload) => { throw new PermanentError(messageOf(payload)); });
  worker.register("conformance.sleep", async (payload, ctx) => {
    await recordRun(payload, ctx);
    const ms = Number(payload?.ms ?? 0);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      ctx.signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
    });
    return { slept: ms };
  });
  worker.register("conformance.crash", async (payload, ctx) => {
    await recordRun(payload, ctx);
    process.stderr.write("conformance.crash: ending the process now\n");
    process.exit(CRASH_EXIT_CODE);
  });
  return recorder;
}

async function runWorker(values) {
  const { Redis } = await importIoredis();
  const redis = new Redis(values.url, { maxRetriesPerRequest: 3 });
  const leaseMs = values["lease-ms"] ? Number(values["lease-ms"]) : 30_000;
  const language = values["language-tag"] ?? "typescript";
  const worker = new Worker(redis, {
    queues: values.queues.split(",").filter(Boolean),
    prefix: values.prefix,
    concurrency: Number(values.concurrency ?? 10),
    leaseMs,
    reapIntervalMs: leaseMs / 6,
    ...(values["shutdown-grace-ms"] !== undefined ? { shutdownGraceMs: Number(values["shutdown-grace-ms"]) } : {}),
  });
  const recorder = registerHandlers(worker, language);
  await worker.run({
    onReady: () => process.stdout.write(`${JSON.stringify({ ready: true, worker_id: worker.id, language })}\n`),
  });
  recorder.disconnect();
  redis.disconnect();
  return 0;
}

/** ioredis, as the package resolves it (its own dependency). */
async function importIoredis() {
  const { createRequire } = await import("node:module");
  const require = createRequire(new URL("../../../clients/typescript/package.json", import.meta.url));
  return import(require.resolve("ioredis"));
}

// -- producer ----------------------------------------------------------------

class Refused extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

function backoffOf(policy) {
  if (policy === undefined || policy === null) return undefined;
  if (policy.fixed_ms !== undefined) return Backoff.fixed(Number(policy.fixed_ms));
  const exp = policy.exponential;
  if (!exp) throw new Refused("invalid", `unknown backoff ${JSON.stringify(policy)}`);
  return Backoff.exponential(Number(exp.base_ms), Number(exp.factor), Number(exp.max_ms), 0);
}

function specOf(queue, request) {
  const o = request.options ?? {};
  const spec = { type: request.type, payload: request.payload ?? null, queue };
  const set = (name, value) => { if (value !== undefined && value !== null) spec[name] = value; };
  set("delayMs", o.delay_ms);
  set("priority", o.priority);
  set("maxAttempts", o.max_attempts);
  set("timeoutMs", o.timeout_ms);
  set("backoff", backoffOf(o.backoff));
  set("id", o.id);
  set("tags", o.tags);
  set("uniqueForMs", o.unique_for_ms);
  set("uniqueKey", o.unique_key);
  set("flowKey", o.flow_key);
  set("idempotencyKey", o.idempotency_key);
  set("idempotencyWindowMs", o.idempotency_window_ms);
  set("track", o.track);
  set("expiresInMs", o.expires_in_ms);
  set("version", o.version);
  return spec;
}

async function answer(client, request) {
  const queue = request.queue ?? "default";
  switch (request.op) {
    case "enqueue": {
      const [result] = await client.submit([specOf(queue, request)]);
      return result.status === "duplicate" || result.status === "debounced" || result.status === "exists"
        ? { ok: true, id: result.id, duplicate: true }
        : { ok: true, id: result.id };
    }
    case "enqueue_many":
      return { ok: true, ids: await client.enqueueMany((request.jobs ?? []).map((job) => specOf(queue, job))) };
    case "chain":
      return { ok: true, ids: await client.chain((request.jobs ?? []).map((job) => specOf(queue, job))) };
    case "status": {
      const status = await client.status(queue, request.id);
      return { ok: true, status: status && { state: status.state, result: status.result, error: status.error } };
    }
    default:
      throw new Refused("invalid", `unknown op ${JSON.stringify(request.op)}`);
  }
}

function refusal(err) {
  if (err instanceof Refused) return { ok: false, error: err.kind, message: err.message };
  if (err instanceof EnqueueError || err instanceof InvalidName || err instanceof SyntaxError || err instanceof TypeError) {
    const kind = /held by another job|held by job/.test(err.message) ? "duplicate" : "invalid";
    return { ok: false, error: kind, message: `${err.name}: ${err.message}` };
  }
  if (err?.name === "ReplyError" || /connect|ECONNREFUSED|Connection/i.test(String(err?.message))) {
    return { ok: false, error: "redis", message: String(err.message) };
  }
  return { ok: false, error: "other", message: String(err?.stack ?? err) };
}

async function runProducer(values) {
  const client = Client.fromUrl(values.url, { prefix: values.prefix });
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let reply;
    try {
      reply = await answer(client, JSON.parse(line));
    } catch (err) {
      reply = refusal(err);
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
  await client.close();
  return 0;
}

// -- main --------------------------------------------------------------------

async function main(argv) {
  const [mode, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      url: { type: "string" },
      prefix: { type: "string" },
      queues: { type: "string" },
      concurrency: { type: "string" },
      "lease-ms": { type: "string" },
      "shutdown-grace-ms": { type: "string" },
      "language-tag": { type: "string" },
    },
  });
  if (!values.url || !values.prefix) throw new Error("--url and --prefix are required");
  if (mode === "worker") {
    if (!values.queues) throw new Error("worker mode needs --queues");
    return runWorker(values);
  }
  if (mode === "produce") return runProducer(values);
  throw new Error(`usage: adapter.mjs worker|produce --url URL --prefix P … (got ${JSON.stringify(mode)})`);
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exitCode = 2;
});
