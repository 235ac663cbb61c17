// Flow control against a real Redis, two workers on one queue: keyed jobs
// run one at a time per key (fetch_limited.lua; ack_keyed.lua, retry.lua and
// bury.lua release the keys), and a queue's running limit holds across both
// workers, switched on by an `l` message while they run.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Backoff, PermanentError } from "../dist/index.js";
import { runUntil, setup } from "./support.mjs";

const RUN_MS = 120;

/** A handler that sleeps RUN_MS and records its [start, end] under `payload.key`. */
function timed(runs, before = () => {}) {
  return async (payload, ctx) => {
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    (runs[payload.key] ??= []).push([start, Date.now(), ctx.id]);
    before(payload, ctx);
  };
}

test("keyed jobs run one at a time per key, keys side by side, and every ending releases the key", async () => {
  const s = setup("flow-keys");
  try {
    const runs = {};
    const failedOnce = new Set();
    const handler = timed(runs, (payload, ctx) => {
      if (payload.outcome === "dies") throw new PermanentError("gives up");
      if (payload.outcome === "retries" && !failedOnce.has(ctx.id)) {
        failedOnce.add(ctx.id);
        throw new Error("first attempt fails");
      }
    });
    const workers = [s.worker({ concurrency: 4 }), s.worker({ concurrency: 4 })];
    for (const worker of workers) worker.register("keyed", handler, { backoff: Backoff.fixed(50) });
    const outcomes = ["ok", "retries", "ok", "dies", "ok"];
    let dead;
    for (const key of ["account:1", "account:2"]) {
      for (const outcome of outcomes) {
        const id = await s.client.enqueue("keyed", { key, outcome }, { flowKey: key });
        if (outcome === "dies" && key === "account:1") dead = id;
      }
    }
    await runUntil(workers, async () => (await s.stat("processed")) === 8 && (await s.stat("dead")) === 2, 20_000);
    for (const [key, list] of Object.entries(runs)) {
      assert.equal(list.length, 6, `${key}: 5 jobs, one of them run twice`);
      list.sort((a, b) => a[0] - b[0]);
      for (let n = 1; n < list.length; n++) {
        assert.ok(list[n][0] >= list[n - 1][1], `two jobs of ${key} overlapped: ${JSON.stringify(list)}`);
      }
    }
    const firsts = Object.values(runs).map((list) => list[0]);
    assert.ok(firsts[0][0] < firsts[1][1] && firsts[1][0] < firsts[0][1], "the two keys' first jobs ran side by side");
    // Every key was released: nothing leased under a key, nothing waiting.
    assert.equal(await s.t.redis.hlen(`${s.base}:grun`), 0);
    assert.equal(await s.t.redis.zcard(`${s.base}:gready`), 0);
    assert.equal(await s.t.redis.exists(`${s.base}:g:account:1`, `${s.base}:g:account:2`), 0);
    assert.equal((await s.deadEnvelope(dead)).errors.at(-1).message.split("\n")[0], "PermanentError: gives up");
    assert.equal(await s.stat("failed"), 4, "two failed attempts, two deaths");
  } finally {
    await s.t.cleanup();
  }
});

test("a queue's running limit, set while the workers run, holds across both of them", async () => {
  const s = setup("flow-limit");
  try {
    let now = 0;
    let most = 0;
    const workers = [s.worker({ concurrency: 5 }), s.worker({ concurrency: 5 })];
    for (const worker of workers) {
      worker.register("limited", async () => {
        most = Math.max(most, ++now);
        await new Promise((resolve) => setTimeout(resolve, RUN_MS));
        now--;
      });
    }
    let ready = 0;
    const running = workers.map((worker) => worker.run({ installSignalHandlers: false, onReady: () => { ready++; } }));
    try {
      while (ready < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      // What the admin API's set_queue_limits writes and publishes.
      await s.t.redis.hset(`${s.base}:limits`, "max_running", 2);
      await s.t.redis.publish(`${s.base}:events`, "l");
      // Both workers fetch the queue with fetch_limited.lua once they read the limits.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      for (let n = 0; n < 12; n++) await s.client.enqueue("limited", { n });
      const deadline = Date.now() + 15_000;
      while ((await s.stat("processed")) < 12) {
        assert.ok(Date.now() < deadline, "the 12 jobs did not all run");
        const leased = (await s.t.redis.hlen(`${s.base}:active:${workers[0].id}`))
          + (await s.t.redis.hlen(`${s.base}:active:${workers[1].id}`));
        assert.ok(leased <= 2, `${leased} jobs leased at once under a running limit of 2`);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      assert.equal(most, 2, "at most 2 ran at once, and the limit was used");
      // 6 rounds of RUN_MS: freed slots wake the waiting worker (wake_waiters.lua), no recheck stalls.
      assert.ok(Date.now() - started < 6 * RUN_MS + 2_000, `took ${Date.now() - started} ms`);
    } finally {
      for (const worker of workers) worker.stop();
      await Promise.all(running);
    }
  } finally {
    await s.t.cleanup();
  }
});
