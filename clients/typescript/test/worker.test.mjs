// The worker against a real Redis: outcomes, counters, hand-back, reaping,
// promotion, wake-ups, expiry, tracked jobs, cancelling, SIGTERM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { Backoff, PermanentError } from "../dist/index.js";
import { REDIS_URL, isolated, runUntil, setup, until } from "./support.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));

test("jobs run with their payload and are counted processed", async () => {
  const s = setup("run");
  try {
    const seen = [];
    const worker = s.worker({ concurrency: 4 });
    worker.register("greet", async (payload, ctx) => { seen.push([payload.name, ctx.attempt, ctx.queue]); });
    worker.register("shout", (payload, ctx) => { seen.push([payload.name.toUpperCase(), ctx.attempt, ctx.queue]); });
    for (let i = 0; i < 20; i++) await s.client.enqueue("greet", { name: `n${i}` });
    await s.client.enqueue("shout", { name: "ada" }, { priority: 3 });
    await runUntil(worker, async () => (await s.stat("processed")) === 21);
    assert.equal(seen.length, 21);
    assert.deepEqual(seen[0], ["ADA", 1, "default"], "the prioritised job first");
    assert.equal(await s.t.redis.hlen(`${s.base}:active:${worker.id}`), 0);
    assert.equal(await s.stat("failed"), 0);
  } finally {
    await s.t.cleanup();
  }
});

test("a failing job is retried with backoff, then dead with its stack trace", async () => {
  const s = setup("retry");
  try {
    const runs = [];
    const worker = s.worker();
    worker.register("flaky", async function flaky(payload, ctx) {
      runs.push(ctx.attempt);
      throw new RangeError(`bad input ${payload.n}`);
    }, { maxAttempts: 3, backoff: Backoff.fixed(100) });
    const id = await s.client.enqueue("flaky", { n: 7 });
    await runUntil(worker, async () => (await s.t.redis.zscore(`${s.base}:dead`, id)) !== null);
    assert.deepEqual(runs, [1, 2, 3]);
    const envelope = await s.deadEnvelope(id);
    assert.equal(envelope.attempt, 3);
    assert.deepEqual(envelope.errors.map((e) => e.attempt), [1, 2, 3]);
    const last = envelope.errors.at(-1);
    assert.equal(last.kind, "error");
    assert.ok(last.message.startsWith("RangeError: bad input 7\n"), last.message);
    assert.match(last.message, /\n\s+at flaky \(.*worker\.test\.mjs:\d+:\d+\)/);
    assert.deepEqual([await s.stat("failed"), await s.stat("dead")], [3, 1]);
  } finally {
    await s.t.cleanup();
  }
});

test("jobs that cannot run go to the dead set with the reason", async () => {
  const s = setup("dead");
  try {
    const worker = s.worker();
    worker.register("strict", () => { throw new PermanentError("card declined"); });
    const permanent = await s.client.enqueue("strict", {});
    const unknown = await s.client.enqueue("nobody.handles.this", {});
    const exhausted = await s.client.enqueue("strict", {}, { maxAttempts: 1 });
    const badPayload = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9e";
    await s.t.redis.rpush(`${s.base}:ready`, `{"id":"${badPayload}","type":"strict"}\nnot json`);
    await s.t.redis.rpush(`${s.base}:ready`, "garbage without a newline, long enough");
    // Make `exhausted` look like it already ran once (lost with a crashed worker).
    for (const record of await s.t.redis.lrange(`${s.base}:ready`, 0, -1)) {
      if (record.slice(7, 43) === exhausted) {
        await s.t.redis.lrem(`${s.base}:ready`, 1, record);
        await s.t.redis.rpush(`${s.base}:ready`, record.replace('"type":"strict"', '"type":"strict","attempt":1'));
      }
    }
    await runUntil(worker, async () => (await s.t.redis.zcard(`${s.base}:dead`)) === 5);
    const last = async (id) => (await s.deadEnvelope(id)).errors.at(-1);
    assert.equal((await last(permanent)).kind, "error");
    assert.ok((await last(permanent)).message.startsWith("PermanentError: card declined"));
    assert.equal((await last(unknown)).kind, "unknown_type");
    assert.match((await last(unknown)).message, /nobody\.handles\.this.*TypeScript worker \(registered: strict\)/);
    assert.equal((await last(exhausted)).kind, "exhausted");
    assert.equal((await last(badPayload)).kind, "payload");
    const malformed = (await s.t.redis.zrange(`${s.base}:dead`, 0, -1))
      .filter((id) => ![permanent, unknown, exhausted, badPayload].includes(id));
    assert.equal(malformed.length, 1);
    const record = await s.t.redis.hget(`${s.base}:jobs`, malformed[0]);
    assert.ok(record.endsWith("\ngarbage without a newline, long enough"), "kept as found");
    assert.equal(JSON.parse(record.split("\n")[0]).errors[0].kind, "malformed");
    assert.equal(await s.stat("dead"), 5);
  } finally {
    await s.t.cleanup();
  }
});

test("an encoded (compressed or encrypted) payload is refused, not run", async () => {
  const s = setup("encoded");
  try {
    const ran = [];
    const worker = s.worker();
    worker.register("secret", (payload) => { ran.push(payload); });
    // As a Rust producer with a payload codec writes them (compressed; encrypted).
    const compressed = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9f";
    const encrypted = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8ca0";
    await s.t.redis.sadd(`${s.t.prefix}:queues`, "default");
    await s.t.redis.rpush(`${s.base}:ready`, `{"id":"${compressed}","type":"secret","enc":"zstd"}\n"KLUv/QBYYQAAe30="`);
    await s.t.redis.rpush(`${s.base}:ready`,
      `{"id":"${encrypted}","type":"secret","enc":"xchacha20poly1305:k1"}\n"AAAA"`);
    await runUntil(worker, async () => (await s.t.redis.zcard(`${s.base}:dead`)) === 2);
    assert.deepEqual(ran, []);
    for (const [id, encoding] of [[compressed, "zstd"], [encrypted, "xchacha20poly1305:k1"]]) {
      const error = (await s.deadEnvelope(id)).errors.at(-1);
      assert.equal(error.kind, "payload");
      assert.ok(error.message.includes(`the payload is encoded (${encoding})`), error.message);
    }
  } finally {
    await s.t.cleanup();
  }
});

test("a job past its time limit fails with kind timeout", async () => {
  const s = setup("timeout");
  try {
    const worker = s.worker();
    worker.register("hang", (_p, ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", resolve)),
      { maxAttempts: 1, timeoutMs: 100 });
    const id = await s.client.enqueue("hang", {});
    await runUntil(worker, async () => (await s.t.redis.zscore(`${s.base}:dead`, id)) !== null);
    const error = (await s.deadEnvelope(id)).errors.at(-1);
    assert.deepEqual([error.kind, error.message], ["timeout", "timed out after 0.1 s"]);
  } finally {
    await s.t.cleanup();
  }
});

test("stopping hands back the jobs it did not finish", async () => {
  const s = setup("handback");
  try {
    let started;
    const startedPromise = new Promise((resolve) => { started = resolve; });
    const worker = s.worker({ concurrency: 1, shutdownGraceMs: 200 });
    worker.register("slow", (_p, ctx) => { started(); return new Promise((resolve) => ctx.signal.addEventListener("abort", resolve)); });
    const ids = [];
    for (let n = 0; n < 3; n++) ids.push(await s.client.enqueue("slow", { n }));
    const running = worker.run({ installSignalHandlers: false });
    await startedPromise;
    worker.stop();
    await running;
    const ready = await s.t.redis.lrange(`${s.base}:ready`, 0, -1);
    assert.deepEqual(ready.map((r) => r.slice(7, 43)), ids);
    assert.ok(!ready[0].includes('"attempt"'), "a hand-back counts no attempt");
    assert.equal(await s.t.redis.exists(`${s.base}:active:${worker.id}`, `${s.t.prefix}:worker:${worker.id}`), 0);
    assert.equal(await s.t.redis.zscore(`${s.base}:leases`, worker.id), null);
  } finally {
    await s.t.cleanup();
  }
});

test("it shows as a worker and reclaims a lapsed worker's jobs", async () => {
  const s = setup("reclaim");
  try {
    // A worker that died: its lease lapsed, one job still in its active hash.
    const id = await s.client.enqueue("noop", {});
    const record = await s.t.redis.lpop(`${s.base}:ready`);
    await s.t.redis.hset(`${s.base}:active:dead-worker`, id, record);
    await s.t.redis.zadd(`${s.base}:leases`, 1, "dead-worker");
    const ran = [];
    const worker = s.worker({ reapIntervalMs: 200, concurrency: 3 });
    worker.register("noop", (_p, ctx) => { ran.push(ctx.attempt); });
    let info = {};
    await runUntil(worker, async () => {
      info = { ...info, ...(await s.t.redis.hgetall(`${s.t.prefix}:worker:${worker.id}`)) };
      return ran.length > 0;
    });
    assert.deepEqual(ran, [2], "the lost run counts as an attempt");
    assert.equal(await s.stat("reclaimed"), 1);
    assert.equal(info.language, "typescript");
    assert.equal(info.queues, "default");
    assert.equal(info.concurrency, "3");
    assert.equal(info.pid, String(process.pid));
    assert.match(info.version, /^0\.1\.0 \(node v\d+/);
  } finally {
    await s.t.cleanup();
  }
});

test("due scheduled jobs are promoted", async () => {
  const s = setup("promote");
  try {
    const ran = [];
    const worker = s.worker();
    worker.register("noop", () => { ran.push(Date.now()); });
    const enqueued = Date.now();
    await s.client.enqueue("noop", {}, { delayMs: 500 });
    await runUntil(worker, async () => ran.length > 0);
    assert.ok(ran[0] - enqueued >= 450, `ran after ${ran[0] - enqueued} ms`);
  } finally {
    await s.t.cleanup();
  }
});

test("an idle worker is woken by the enqueue", async () => {
  const s = setup("wake");
  try {
    const ran = [];
    // A poll far beyond the test's patience: only the `r` wake-up can bring the job.
    const worker = s.worker({ idlePollMs: 300_000 });
    worker.register("noop", () => { ran.push(1); });
    let ready;
    const readyPromise = new Promise((resolve) => { ready = resolve; });
    const running = worker.run({ installSignalHandlers: false, onReady: ready });
    await readyPromise;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await s.client.enqueue("noop", {});
    try {
      await until(async () => ran.length > 0, 5_000, "the wake-up");
    } finally {
      worker.stop();
      await running;
    }
  } finally {
    await s.t.cleanup();
  }
});

test("a job past its expiry is dropped, not run", async () => {
  const s = setup("expire");
  try {
    const ran = [];
    const worker = s.worker();
    worker.register("noop", (_p, ctx) => { ran.push(ctx.id); });
    const stale = await s.client.enqueue("noop", { n: 1 });
    const fresh = await s.client.enqueue("noop", { n: 2 });
    const records = await s.t.redis.lrange(`${s.base}:ready`, 0, -1);
    await s.t.redis.del(`${s.base}:ready`);
    for (const [record, at] of [[records[0], 1000], [records[1], 4_102_444_800_000]]) {
      await s.t.redis.rpush(`${s.base}:ready`, record.replace('"type":"noop"', `"type":"noop","expires_at":${at}`));
    }
    await runUntil(worker, async () => ran.length > 0 && (await s.stat("expired")) === 1);
    assert.deepEqual(ran, [fresh]);
    assert.notEqual(await s.t.redis.zscore(`${s.base}:expired`, stale), null);
  } finally {
    await s.t.cleanup();
  }
});

test("tracked jobs get their status and result", async () => {
  const s = setup("tracked");
  try {
    const worker = s.worker();
    worker.register("answer", (payload) => {
      if (payload.fail) throw new Error("no answer");
      return { answer: 42 };
    }, { maxAttempts: 1 });
    const good = await s.client.enqueue("answer", { fail: false }, { track: true });
    const bad = await s.client.enqueue("answer", { fail: true }, { track: true });
    await runUntil(worker, async () => {
      const states = await Promise.all([good, bad].map((id) => s.t.redis.hget(`${s.base}:status:${id}`, "state")));
      return states[0] === "succeeded" && states[1] === "dead";
    });
    assert.deepEqual((await s.client.status("default", good)).result, { answer: 42 });
    assert.ok((await s.t.redis.pttl(`${s.base}:status:${good}`)) <= 300_000);
    const error = (await s.client.status("default", bad)).error;
    assert.ok(error.startsWith("Error: no answer"), error);
  } finally {
    await s.t.cleanup();
  }
});

test("progress reports go to the status, tracked or not, and so does the end", async () => {
  const s = setup("progress");
  try {
    let release;
    const finish = new Promise((resolve) => { release = resolve; });
    let reported = false;
    const worker = s.worker();
    worker.register("report", async (payload, ctx) => {
      await ctx.progress(140, "x".repeat(600));
      reported = true;
      await finish;
      if (payload.fail) throw new PermanentError("gave up");
    });
    const done = await s.client.enqueue("report", { fail: false });
    const dead = await s.client.enqueue("report", { fail: true });
    const state = (id) => s.t.redis.hget(`${s.base}:status:${id}`, "state");
    await runUntil(worker, async () => {
      if (reported) {
        const status = await s.t.redis.hgetall(`${s.base}:status:${done}`);
        if (status.state === "running" && status.percent === "100") {
          assert.equal(status.stale, "0");
          assert.equal(Buffer.byteLength(status.message), 512);
          assert.ok((await s.t.redis.pttl(`${s.base}:status:${done}`)) <= 300_000, "untracked: the status TTL");
          release();
        }
      }
      return (await state(done)) === "succeeded" && (await state(dead)) === "dead";
    });
    const error = (await s.client.status("default", dead)).error;
    assert.ok(error.startsWith("PermanentError: gave up"), error);
  } finally {
    await s.t.cleanup();
  }
});

test("an operator's cancel (c<id>) stops the running job and records nothing", async () => {
  const s = setup("cancel");
  try {
    let aborted = false;
    const worker = s.worker();
    worker.register("wait", (_p, ctx) => new Promise((resolve) => {
      ctx.signal.addEventListener("abort", () => { aborted = true; resolve(); });
    }));
    const id = await s.client.enqueue("wait", {});
    await runUntil(worker, async () => {
      if (worker.busy === 1 && !aborted) {
        // What cancel.lua does for a leased job: take it from the active hash, publish c<id>.
        await s.t.redis.hdel(`${s.base}:active:${worker.id}`, id);
        await s.t.redis.publish(`${s.base}:events`, `c${id}`);
      }
      return aborted && worker.busy === 0;
    });
    assert.equal(await s.stat("processed"), 0);
    assert.equal(await s.stat("failed"), 0);
    assert.equal(await s.t.redis.llen(`${s.base}:ready`), 0, "nothing handed back");
  } finally {
    await s.t.cleanup();
  }
});

test("SIGTERM stops the command-line worker, which hands its jobs back", async () => {
  const s = setup("sigterm");
  try {
    const ids = [];
    for (let n = 0; n < 3; n++) ids.push(await s.client.enqueue("slow", {}));
    const child = spawn(process.execPath, [join(HERE, "..", "dist", "bin.js"), "--url", REDIS_URL, "--prefix", s.t.prefix,
      "--queues", "default", "--concurrency", "2", "--handlers", join(HERE, "fixtures", "slow_handlers.mjs")],
    { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => { output += d; });
    child.stderr.on("data", (d) => { output += d; });
    const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await until(async () => (await s.t.redis.llen(`${s.base}:ready`)) <= 1, 10_000, "the fetch");
      child.kill("SIGTERM");
      assert.equal(await exited, 0, output);
    } finally {
      child.kill("SIGKILL");
    }
    const ready = await s.t.redis.lrange(`${s.base}:ready`, 0, -1);
    assert.deepEqual(ready.map((r) => r.slice(7, 43)).sort(), [...ids].sort(), output);
    assert.equal(await s.t.redis.zcard(`${s.t.prefix}:workers`), 0);
  } finally {
    await s.t.cleanup();
  }
});

test("prefetched jobs wait in the buffer: a cancelled one never starts, the rest go back at stop", async () => {
  const s = setup("prefetch");
  try {
    const ran = [];
    let release;
    const blocker = new Promise((resolve) => { release = resolve; });
    const worker = s.worker({ concurrency: 1, prefetch: 3, shutdownGraceMs: 5_000 });
    worker.register("step", async (payload) => {
      ran.push(payload.n);
      if (payload.n === 0) await blocker;
    });
    const ids = [];
    for (let n = 0; n < 4; n++) ids.push(await s.client.enqueue("step", { n }));
    const running = worker.run({ installSignalHandlers: false });
    // One job runs, three wait leased in the buffer (all four in the active hash).
    await until(async () => ran.length === 1 && (await s.t.redis.hlen(`${s.base}:active:${worker.id}`)) === 4, 5_000, "the prefetch");
    assert.equal(await s.t.redis.llen(`${s.base}:ready`), 0);
    // What cancel.lua does for a leased job: take it from the active hash, publish c<id>.
    await s.t.redis.hdel(`${s.base}:active:${worker.id}`, ids[1]);
    await s.t.redis.publish(`${s.base}:events`, `c${ids[1]}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    worker.stop();
    release();
    await running;
    assert.deepEqual(ran, [0], "nothing started after the stop; the cancelled job never");
    const ready = await s.t.redis.lrange(`${s.base}:ready`, 0, -1);
    assert.deepEqual(ready.map((r) => r.slice(7, 43)).sort(), [ids[2], ids[3]].sort(), "the unstarted buffered jobs went back");
    assert.equal(await s.stat("processed"), 1);
  } finally {
    await s.t.cleanup();
  }
});

test("a chain runs in order; a dead parent dead-letters the rest", async () => {
  const s = setup("chain");
  try {
    const ran = [];
    const worker = s.worker({ concurrency: 4 });
    worker.register("step", (payload) => { ran.push(payload.n); return { n: payload.n }; });
    worker.register("doomed", () => { throw new PermanentError("parent fails"); });
    const ok = await s.client.chain([0, 1, 2].map((n) => ({ type: "step", payload: { n } })));
    const bad = await s.client.chain([{ type: "doomed" }, { type: "step", payload: { n: 99 } }]);
    await runUntil(worker, async () => ran.length === 3 && (await s.t.redis.zcard(`${s.base}:dead`)) === 2);
    assert.deepEqual(ran, [0, 1, 2], "each after its parent; the dead parent's child never ran");
    assert.equal(await s.t.redis.hget(`${s.base}:parent:${ok[0]}`, "state"), "succeeded");
    assert.equal(await s.t.redis.hget(`${s.base}:parent:${ok[0]}`, "result"), '{"n":0}');
    assert.equal(await s.t.redis.hget(`${s.base}:parent:${bad[0]}`, "state"), "failed");
    assert.notEqual(await s.t.redis.zscore(`${s.base}:dead`, bad[1]), null);
    assert.equal(await s.t.redis.zcard(`${s.base}:releases`), 0, "every outbox entry applied");
    assert.equal(await s.t.redis.zcard(`${s.base}:waiting`), 0);
  } finally {
    await s.t.cleanup();
  }
});
