#!/usr/bin/env node
// w3 (enqueue -> start latency, ../../docs/benchmarks.md) on BullMQ, for
// scripts/bench-peers. Two roles in one file, run as two processes like
// jobqueue's and Sidekiq's:
//
//   node scripts/peers/bullmq_w3.mjs worker    # concurrency 20
//   node scripts/peers/bullmq_w3.mjs produce   # prints one JSON line
//
// configured by the environment: BULLMQ_DIR (where `npm install bullmq`
// ran), REDIS_URL, W3_QUEUE, W3_JOBS (5000), W3_RATE (500/s). 500 warm-up
// jobs at the rate, then W3_JOBS measured ones, each carrying its enqueue
// wall-clock time in ns and the ~100-byte payload; the job takes its start
// time first and writes start minus enqueue to a Redis list through a
// connection of its own. Jobs are removed on completion, as jobqueue drops
// acknowledged jobs.
import { Queue, Worker, bullmqVersion as version, loadIORedis } from "../../clients/typescript/bench/load_bullmq.mjs";

const IORedis = await loadIORedis();

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const name = process.env.W3_QUEUE ?? "w3";
const samplesKey = `${name}:latency_ns`;
const readyKey = `${name}:worker_ready`;
const parsed = new URL(url);
const connection = { host: parsed.hostname, port: Number(parsed.port || 6379), maxRetriesPerRequest: null };
const WARMUP = 500;

// Wall-clock ns with sub-ms precision, comparable across processes.
const nowNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

const role = process.argv[2];
if (role === "worker") {
  const recorder = new IORedis(connection);
  const worker = new Worker(name, async (job) => {
    const started = nowNs();
    if (job.data.warmup) return null;
    await recorder.rpush(samplesKey, String(started - BigInt(job.data.sent_ns)));
    return null;
  }, { connection, concurrency: 20, removeOnComplete: { count: 0 } });
  await worker.waitUntilReady();
  await recorder.set(readyKey, "1");
  const stop = async () => {
    await worker.close();
    await recorder.quit();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else if (role === "produce") {
  const n = Number(process.env.W3_JOBS ?? 5000);
  const rate = Number(process.env.W3_RATE ?? 500);
  const redis = new IORedis(connection);
  const queue = new Queue(name, { connection });
  await redis.del(samplesKey);
  const readyBy = Date.now() + 30_000;
  while (!(await redis.get(readyKey))) {
    if (Date.now() > readyBy) throw new Error("the BullMQ worker never started");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const periodMs = 1000 / rate;
  const sleepUntil = (at) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));
  const send = async (count, warmup) => {
    const started = performance.now();
    let next = started;
    for (let i = 0; i < count; i++) {
      if (next > performance.now()) await sleepUntil(next);
      next += periodMs;
      const data = {
        sent_ns: String(nowNs()), warmup,
        payload: { user_id: i, email: `user${i}@example.com`, action: "welcome", pad: "xxxxxxxxxxxxxxxxxxxxxxxx" },
      };
      await queue.add("bench", data, { removeOnComplete: true });
    }
    return count / ((performance.now() - started) / 1000);
  };
  await send(WARMUP, true);
  const achieved = await send(n, false);
  const doneBy = Date.now() + 60_000;
  while ((await redis.llen(samplesKey)) < n && Date.now() < doneBy) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const samples = (await redis.lrange(samplesKey, 0, -1)).map((s) => Number(s) / 1e6).sort((a, b) => a - b);
  if (samples.length < n) throw new Error(`only ${samples.length} of ${n} jobs ran`);
  const pct = (p) => samples[Math.max(Math.ceil(p * samples.length) - 1, 0)];
  const r3 = (x) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    system: "bullmq", version, workload: "w3", n, target_rate: rate, achieved_rate: r3(achieved),
    p50_ms: r3(pct(0.5)), p95_ms: r3(pct(0.95)), p99_ms: r3(pct(0.99)),
    max_ms: r3(samples[samples.length - 1]), min_ms: r3(samples[0]),
  }));
  await queue.close();
  await redis.quit();
} else {
  process.stderr.write("usage: bullmq_w3.mjs worker|produce\n");
  process.exit(2);
}
