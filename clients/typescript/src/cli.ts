/**
 * The worker's command line (`node dist/bin.js`, or {@link runWorkerCli}
 * from a program of one's own): runs a worker with the handlers of a module.
 *
 *     node clients/typescript/dist/cli.js --url redis://127.0.0.1:6379 --prefix jq \
 *         --queues default,mail --concurrency 10 --handlers ./myapp/jobs.js
 *
 * where the module exports `register(worker)`, which registers the handlers.
 * SIGTERM or SIGINT stops it gracefully; exit status 0 after a clean stop.
 * `--exit-when-idle` stops it once its queues are empty (tests, benchmarks).
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { Redis } from "ioredis";

import { type Command, command, run } from "./commands.js";
import { sleep } from "./signal.js";
import { Worker } from "./worker.js";

/** Stops `worker` once its queues have nothing ready, scheduled or retrying, nothing is
 * leased to it and no job runs, twice in a row (a fetch in flight leases jobs before the
 * worker holds them). */
async function stopWhenIdle(worker: Worker): Promise<void> {
  let idleRounds = 0;
  while (idleRounds < 2) {
    await sleep(100);
    const counts: Command[] = worker.queues.flatMap((keys) => [
      command("LLEN", keys.ready), command("ZCARD", keys.priority), command("ZCARD", keys.scheduled),
      command("ZCARD", keys.retry), command("HLEN", keys.active(worker.id)),
    ]);
    const replies = await run(worker.redis, counts);
    const idle = replies.every((n) => Number(n) === 0) && worker.idle;
    idleRounds = idle ? idleRounds + 1 : 0;
  }
  worker.stop();
}

/** A function that registers job handlers on a worker. */
export type Register = (worker: Worker) => unknown;

/**
 * Parses `argv` (`--url --prefix --queues --concurrency --lease-ms
 * --shutdown-grace-ms --exit-when-idle`, and `--handlers <module>` unless
 * `register` is given), runs the worker until it stops; resolves to the exit
 * status.
 */
export async function runWorkerCli(argv: string[], register?: Register): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string", default: process.env.JOBQUEUE_REDIS_URL ?? "redis://127.0.0.1:6379" },
      prefix: { type: "string", default: process.env.JOBQUEUE_PREFIX || "jq" },
      queues: { type: "string", default: "default" },
      concurrency: { type: "string", default: "10" },
      handlers: { type: "string" },
      "lease-ms": { type: "string", default: "30000" },
      "shutdown-grace-ms": { type: "string" },
      "exit-when-idle": { type: "boolean", default: false },
    },
  });
  let registerHandlers = register;
  if (!registerHandlers) {
    if (!values.handlers) {
      process.stderr.write("--handlers <module> is required: a module whose register(worker) registers the handlers\n");
      return 2;
    }
    const module = (await import(pathToFileURL(resolve(values.handlers)).href)) as { register?: Register };
    if (typeof module.register !== "function") {
      process.stderr.write(`${values.handlers} exports no register(worker) function\n`);
      return 2;
    }
    registerHandlers = module.register;
  }
  const redis = new Redis(values.url!, { maxRetriesPerRequest: 3 });
  try {
    const worker = new Worker(redis, {
      queues: values.queues!.split(",").filter(Boolean),
      prefix: values.prefix!,
      concurrency: Number(values.concurrency),
      leaseMs: Number(values["lease-ms"]),
      ...(values["shutdown-grace-ms"] ? { shutdownGraceMs: Number(values["shutdown-grace-ms"]) } : {}),
    });
    await registerHandlers(worker);
    const watcher = values["exit-when-idle"] ? stopWhenIdle(worker) : undefined;
    await worker.run();
    await watcher;
  } finally {
    redis.disconnect();
  }
  return 0;
}
