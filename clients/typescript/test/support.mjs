// Shared test helpers: a unique key prefix per test on a real Redis
// (JOBQUEUE_TEST_REDIS_URL, default redis://127.0.0.1:6379), its keys deleted afterwards.
import { randomBytes } from "node:crypto";

import { Redis } from "ioredis";

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
