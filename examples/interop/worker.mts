/**
 * A jobqueue worker in TypeScript, beside (or instead of) Rust and Python workers.
 *
 * Runs the job types below from the same queues as the Rust examples, with
 * the `jobqueue-client` package (clients/typescript):
 *
 *   * `interop.greet`  — the Rust `Greet { name: String, times: u32 }` of
 *     examples/tests/interop.rs: its payload arrives as the object serde wrote;
 *     what it returns is the job's result (`Client::wait_result` in Rust);
 *   * `interop.resize` — a job type only this worker handles; a payload
 *     without `width` fails with a stack trace, retried twice, then dead (see
 *     the dashboard's Dead page, or `jobqueue jobs dead`);
 *   * `interop.wait`   — sleeps `seconds`: a running job to cancel.
 *
 * Build and run (from the repository root, a Redis 7+ at JOBQUEUE_REDIS_URL):
 *
 *   (cd clients/typescript && npm ci && npm run build)
 *   node clients/typescript/dist/examples/worker.mjs --queues default --concurrency 8
 *
 * Ctrl-C or SIGTERM stops it gracefully.
 */

import { Backoff, type JobContext, PermanentError, type Worker, runWorkerCli } from "jobqueue-client";

/** The Rust `Greet` job's fields, as serde serialized them. */
interface Greet {
  name: string;
  times?: number;
}

async function greet(payload: Greet, ctx: JobContext): Promise<{ greeted: string; times: number }> {
  if (!payload.name) throw new PermanentError("no name"); // dead at once, like JobError::permanent
  const times = payload.times ?? 1;
  for (let i = 0; i < times; i++) console.error(`hello, ${payload.name} (job ${ctx.id}, attempt ${ctx.attempt})`);
  return { greeted: payload.name, times };
}

function resize(payload: { image: string; width?: number }): void {
  if (payload.width === undefined) throw new TypeError(`no width given for ${payload.image}`); // retried, then dead
  console.error(`resized ${payload.image} to ${payload.width} px`);
}

/** A long job: an operator's cancel (dashboard, `jobqueue cancel`, `Client::cancel`) aborts `ctx.signal`. */
function wait(payload: { seconds: number }, ctx: JobContext): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, payload.seconds * 1000);
    ctx.signal.addEventListener("abort", () => clearTimeout(timer));
  });
}

/** Registers the handlers (a module exporting this can be run with `node dist/bin.js --handlers <it>`). */
export function register(worker: Worker): void {
  worker.register("interop.greet", greet);
  worker.register("interop.wait", wait);
  worker.register("interop.resize", resize, { maxAttempts: 3, backoff: Backoff.fixed(200) });
}

process.exitCode = await runWorkerCli(process.argv.slice(2), register);
