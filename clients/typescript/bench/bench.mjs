#!/usr/bin/env node
// BENCH.md workloads for the TypeScript client: w1 (drain), w2_single, w2_bulk.
//
//   node clients/typescript/bench/bench.mjs w1 --url redis://127.0.0.1:6441
//   node clients/typescript/bench/bench.mjs w2_single
//   node clients/typescript/bench/bench.mjs w2_bulk
//
// Prints one JSON line with the fields BENCH.md names. Uses a fresh prefix
// and deletes its keys afterwards (run it against a Redis of its own).
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

import { Client, VERSION, Worker } from "../dist/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string", default: "redis://127.0.0.1:6379" },
    jobs: { type: "string" },
    concurrency: { type: "string", default: "20" },
    batch: { type: "string", default: "1000" },
  },
});
const workload = positionals[0];
if (!["w1", "w2_single", "w2_bulk"].includes(workload)) {
  process.stderr.write("usage: bench.mjs w1|w2_single|w2_bulk [--url URL] [--jobs N] [--concurrency C] [--batch B]\n");
  process.exit(2);
}
const concurrency = Number(values.concurrency);
const batch = Number(values.batch);

const payload = (i) => ({ user_id: i, email: `user${i}@example.com`, action: "welcome", pad: "xxxxxxxxxxxxxxxxxxxxxxxx" });
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const round3 = (x) => Math.round(x * 1000) / 1000;

async function bulkEnqueue(client, n) {
  const start = process.hrtime.bigint();
  for (let first = 0; first < n; first += batch) {
    const jobs = [];
    for (let i = first; i < Math.min(n, first + batch); i++) jobs.push({ type: "noop", payload: payload(i) });
    await client.enqueueMany(jobs);
  }
  return seconds(start);
}

async function drain(client, prefix, n) {
  let firstStart;
  const boot = process.hrtime.bigint();
  const worker = new Worker(client.redis.duplicate(), { prefix, concurrency, fetchBatch: 100 });
  worker.register("noop", () => {
    firstStart ??= process.hrtime.bigint();
  });
  const running = worker.run({ installSignalHandlers: false });
  const stats = `${prefix}:{default}:stats`;
  let done = 0;
  while (done < n) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    done = Number((await client.redis.hget(stats, "processed")) ?? 0);
  }
  const end = process.hrtime.bigint();
  worker.stop();
  await running;
  worker.redis.disconnect();
  const failed = Number((await client.redis.hget(stats, "failed")) ?? 0);
  const drainS = Number(end - firstStart) / 1e9;
  return {
    n, c: concurrency, jobs_per_s: Math.round(n / drainS), drain_s: round3(drainS),
    boot_s: round3(Number(firstStart - boot) / 1e9), processed: done, failed,
  };
}

const prefix = `tsbench-${randomBytes(4).toString("hex")}`;
const client = Client.fromUrl(values.url, { prefix });
const result = { system: "jobqueue-typescript", version: VERSION, workload };
try {
  if (workload === "w1") {
    const n = Number(values.jobs ?? 50_000);
    result.bulk_enqueue_s = round3(await bulkEnqueue(client, n));
    Object.assign(result, await drain(client, prefix, n));
  } else if (workload === "w2_single") {
    const n = Number(values.jobs ?? 20_000);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await client.enqueue("noop", payload(i));
    const s = seconds(start);
    Object.assign(result, { n, ops_per_s: Math.round(n / s), seconds: round3(s) });
  } else {
    const n = Number(values.jobs ?? 20_000);
    const s = await bulkEnqueue(client, n);
    Object.assign(result, { n, batch, jobs_per_s: Math.round(n / s), seconds: round3(s) });
  }
} finally {
  let cursor = "0";
  do {
    const [next, keys] = await client.redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await client.redis.del(...keys);
  } while (cursor !== "0");
  await client.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
