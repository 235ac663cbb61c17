#!/usr/bin/env node
// The same workloads on BullMQ (npm `bullmq`), for comparison. BullMQ is not a
// dependency of the package: install it in a scratch directory and name it.
//
//   mkdir -p /tmp/bullbench && (cd /tmp/bullbench && npm init -y && npm install bullmq)
//   BULLMQ_DIR=/tmp/bullbench node clients/typescript/bench/bullmq_bench.mjs w1 --url redis://127.0.0.1:6441
//
// Same payload, concurrency and sizes as bench.mjs; jobs are removed on
// completion (`removeOnComplete`), as jobqueue drops acknowledged jobs.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

import { Queue, Worker, bullmqVersion } from "./load_bullmq.mjs";

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
const concurrency = Number(values.concurrency);
const batch = Number(values.batch);
const url = new URL(values.url);
const connection = { host: url.hostname, port: Number(url.port || 6379) };

const payload = (i) => ({ user_id: i, email: `user${i}@example.com`, action: "welcome", pad: "xxxxxxxxxxxxxxxxxxxxxxxx" });
const OPTS = { removeOnComplete: true };
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const round3 = (x) => Math.round(x * 1000) / 1000;

async function bulk(queue, n) {
  const start = process.hrtime.bigint();
  for (let first = 0; first < n; first += batch) {
    const jobs = [];
    for (let i = first; i < Math.min(n, first + batch); i++) jobs.push({ name: "noop", data: payload(i), opts: OPTS });
    await queue.addBulk(jobs);
  }
  return seconds(start);
}

const name = `bullbench-${randomBytes(4).toString("hex")}`;
const queue = new Queue(name, { connection });
const result = { system: "bullmq", version: bullmqVersion, workload };
if (workload === "w2_single") {
  const n = Number(values.jobs ?? 20_000);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await queue.add("noop", payload(i), OPTS);
  const s = seconds(start);
  Object.assign(result, { n, ops_per_s: Math.round(n / s), seconds: round3(s) });
} else if (workload === "w2_bulk") {
  const n = Number(values.jobs ?? 20_000);
  const s = await bulk(queue, n);
  Object.assign(result, { n, batch, jobs_per_s: Math.round(n / s), seconds: round3(s) });
} else if (workload === "w1") {
  const n = Number(values.jobs ?? 50_000);
  result.bulk_enqueue_s = round3(await bulk(queue, n));
  let firstStart;
  let count = 0;
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });
  const boot = process.hrtime.bigint();
  const worker = new Worker(name, async () => {
    firstStart ??= process.hrtime.bigint();
    return null;
  }, { connection, concurrency });
  worker.on("completed", () => {
    count += 1;
    if (count >= n) finish(process.hrtime.bigint());
  });
  const end = await done;
  await worker.close();
  const drainS = Number(end - firstStart) / 1e9;
  Object.assign(result, {
    n, c: concurrency, jobs_per_s: Math.round(n / drainS), drain_s: round3(drainS),
    boot_s: round3(Number(firstStart - boot) / 1e9), processed: count, failed: 0,
  });
} else {
  process.stderr.write("usage: bullmq_bench.mjs w1|w2_single|w2_bulk [--url URL]\n");
  process.exit(2);
}
await queue.obliterate({ force: true });
await queue.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
