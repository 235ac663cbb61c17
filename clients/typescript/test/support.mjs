// Shared test helpers: a unique key prefix per test on a real Redis
// (JOBQUEUE_TEST_REDIS_URL, default redis://127.0.0.1:6379), its keys deleted afterwards.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

import { Redis } from "ioredis";

import { Client, Worker } from "../dist/index.js";

export const REDIS_URL = process.env.JOBQUEUE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A connection and a fresh prefix; `cleanup()` deletes the prefix's keys and disconnects. */
export function isolated(name) {
  const prefix = `tsclient-${name}-${randomBytes(6).toString("hex")}`;
  const redis = new Redis(REDIS_URL);
  return {
    prefix,
    redis,
    base: (queue = "default") => `${prefix}:{${queue}}`,
    async cleanup() {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
      await redis.quit();
    },
  };
}

/** Polls `done()` every 20 ms until it is true; fails after `timeoutMs`. */
export async function until(done, timeoutMs = 10_000, what = "the condition") {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An isolated prefix with a producer, counters, dead records and workers on it. */
export function setup(name) {
  const t = isolated(name);
  const client = new Client(t.redis, { prefix: t.prefix });
  const base = t.base();
  const stat = async (field) => Number((await t.redis.hget(`${base}:stats`, field)) ?? 0);
  const deadEnvelope = async (id) => JSON.parse((await t.redis.hget(`${base}:jobs`, id)).split("\n")[0]);
  const worker = (options = {}) => new Worker(t.redis, { prefix: t.prefix, idlePollMs: 200, ...options });
  return { t, client, base, stat, deadEnvelope, worker };
}

/** Runs `workers` (one or several) until `done()`, then stops them and waits for their clean exit. */
export async function runUntil(workers, done, timeoutMs = 10_000) {
  const all = Array.isArray(workers) ? workers : [workers];
  let finished = false;
  const running = all.map((worker) => worker.run({ installSignalHandlers: false }).finally(() => { finished = true; }));
  try {
    await until(async () => {
      assert.equal(finished, false, "a worker stopped early");
      return done();
    }, timeoutMs);
  } finally {
    for (const worker of all) worker.stop();
    await Promise.all(running);
  }
}
