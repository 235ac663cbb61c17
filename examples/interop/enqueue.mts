/**
 * A jobqueue producer in TypeScript: enqueues the Rust `Greet` job of
 * examples/tests/interop.rs, which a Rust (or Python, or TypeScript) worker
 * runs. Prints each job's id on its own line.
 *
 *   (cd clients/typescript && npm ci && npm run build)
 *   node clients/typescript/dist/examples/enqueue.mjs --url redis://127.0.0.1:6379 --prefix jq
 */

import { parseArgs } from "node:util";

import { Client } from "jobqueue-client";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: process.env.JOBQUEUE_REDIS_URL ?? "redis://127.0.0.1:6379" },
    prefix: { type: "string", default: process.env.JOBQUEUE_PREFIX || "jq" },
  },
});

const client = Client.fromUrl(values.url!, { prefix: values.prefix! });
try {
  // A Rust `Greet { name: String, times: u32 }` with NAME "interop.greet".
  const ids = [
    await client.enqueue("interop.greet", { name: "Ada", times: 1 }),
    await client.enqueue("interop.greet", { name: "Grace", times: 2 }, { priority: 10, tags: ["ts"] }),
    // Several jobs in one round trip.
    ...await client.enqueueMany(["Alan", "Barbara"].map((name) => ({ type: "interop.greet", payload: { name, times: 3 } }))),
  ];
  for (const id of ids) process.stdout.write(`${id}\n`);
} finally {
  await client.close();
}
