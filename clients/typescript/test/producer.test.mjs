// The producer against a real Redis: what lands where, in which format.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { Backoff, Client, EnqueueError, Scripts, luaDir, uniqueDigest } from "../dist/index.js";
import { isolated } from "./support.mjs";

async function withClient(name, body) {
  const t = isolated(name);
  const client = new Client(t.redis, { prefix: t.prefix });
  try {
    await body(t, client);
  } finally {
    await t.cleanup();
  }
}

const idOf = (record) => record.slice(7, 43);

test("a plain job is one compact record on the ready list", () => withClient("plain", async (t, client) => {
  const id = await client.enqueue("send_email", { user_id: 7, name: "Zoë" }, { maxAttempts: 5, timeoutMs: 1000 });
  const ready = await t.redis.lrange(`${t.base()}:ready`, 0, -1);
  assert.equal(ready.length, 1);
  const [envelope, payload] = ready[0].split("\n");
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(envelope, `{"id":"${id}","type":"send_email","max_attempts":5,"timeout_ms":1000}`);
  assert.equal(idOf(ready[0]), id);
  assert.deepEqual(JSON.parse(payload), { user_id: 7, name: "Zoë" });
  assert.deepEqual(await t.redis.smembers(`${t.prefix}:queues`), ["default"]);
}));

test("priority, tags, delay and backoff go through the scripts", () => withClient("scripted", async (t, client) => {
  const q = { queue: "q" };
  const urgent = await client.enqueue("t", {}, { ...q, priority: 10 });
  const tagged = await client.enqueue("t", {}, { ...q, tags: ["customer:1", "customer:1"] });
  const later = await client.enqueue("t", {}, { ...q, delayMs: 3_600_000, backoff: Backoff.fixed(500) });
  const at = await client.enqueue("t", {}, { ...q, runAt: new Date(Date.now() + 86_400_000) });
  const base = t.base("q");
  assert.deepEqual((await t.redis.zrange(`${base}:priority`, 0, -1)).map(idOf), [urgent]);
  assert.deepEqual((await t.redis.lrange(`${base}:ready`, 0, -1)).map(idOf), [tagged]);
  assert.deepEqual(await t.redis.zrange(`${base}:tag:customer:1`, 0, -1), [tagged]);
  assert.deepEqual(new Set(await t.redis.zrange(`${base}:scheduled`, 0, -1)), new Set([later, at]));
  const envelope = JSON.parse((await t.redis.hget(`${base}:jobs`, later)).split("\n")[0]);
  assert.deepEqual(envelope.backoff, { kind: "fixed", delay_ms: 500, jitter: 0 });
  assert.ok("run_at" in envelope);
}));

test("a given id is idempotent and refused for other content", () => withClient("given", async (t, client) => {
  const id = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9d";
  assert.equal(await client.enqueue("t", { n: 1 }, { id }), id);
  assert.deepEqual(await client.submit([{ type: "t", payload: { n: 1 }, id }]), [{ id, status: "exists" }]);
  assert.equal((await t.redis.lrange(`${t.base()}:ready`, 0, -1)).length, 1);
  await assert.rejects(client.enqueue("t", { n: 2 }, { id }), EnqueueError);
}));

test("a unique job takes the Rust client's lock; a duplicate gets the holder's id", () => withClient("unique", async (t, client) => {
  const first = await client.submit([{ type: "report", payload: { day: 1 }, uniqueForMs: 60_000 }]);
  const again = await client.submit([{ type: "report", payload: { day: 1 }, uniqueForMs: 60_000 }]);
  assert.equal(first[0].status, "enqueued");
  assert.deepEqual(again, [{ id: first[0].id, status: "duplicate" }]);
  const digest = uniqueDigest("report", undefined, '{"day":1}');
  assert.equal(await t.redis.get(`${t.base()}:unique:${digest}`), first[0].id);
  const ready = await t.redis.lrange(`${t.base()}:ready`, 0, -1);
  assert.equal(ready.length, 1);
  assert.equal(JSON.parse(ready[0].split("\n")[0]).unique, digest);
  const keyed = await client.submit([{ type: "report", payload: { day: 2 }, uniqueForMs: 60_000, uniqueKey: "k" }]);
  assert.equal(await t.redis.get(`${t.base()}:unique:${uniqueDigest("report", "k", "")}`), keyed[0].id);
}));

test("a flow key files the job in its key's list", () => withClient("flow", async (t, client) => {
  const id = await client.enqueue("t", { n: 1 }, { flowKey: "account:42" });
  assert.deepEqual(await t.redis.lrange(`${t.base()}:g:account:42`, 0, -1), [id]);
  assert.equal(await t.redis.llen(`${t.base()}:ready`), 0);
  assert.equal(await t.redis.exists(`${t.base()}:flow`), 1);
}));

test("bulk enqueue keeps order across queues and kinds", () => withClient("bulk", async (t, client) => {
  const jobs = Array.from({ length: 2500 }, (_, n) => ({ type: "t", payload: { n }, queue: n % 2 ? "a" : "b" }));
  jobs.push({ type: "t", payload: { n: "late" }, queue: "a", delayMs: 60_000 });
  const ids = await client.enqueueMany(jobs);
  assert.equal(new Set(ids).size, 2501);
  const a = await t.redis.lrange(`${t.base("a")}:ready`, 0, -1);
  assert.deepEqual(a.map((r) => JSON.parse(r.split("\n")[1]).n), Array.from({ length: 1250 }, (_, i) => 2 * i + 1));
  assert.equal(await t.redis.llen(`${t.base("b")}:ready`), 1250);
  assert.equal(await t.redis.zcard(`${t.base("a")}:scheduled`), 1);
}));

test("invalid options are refused before anything is written", () => withClient("invalid", async (t, client) => {
  const bad = [{ priority: 101 }, { priority: 1.5 }, { queue: "no spaces" }, { tags: Array.from({ length: 9 }, (_, i) => `t${i}`) },
    { delayMs: -1 }, { tags: ["bad\nline"] }, { maxAttempts: 0 }, { id: "not-a-uuid" }, { flowKey: 'a"b' },
    { uniqueKey: "k" }, { uniqueForMs: 0 }, { tags: "abc" }];
  for (const options of bad) {
    await assert.rejects(client.enqueue("t", {}, options), EnqueueError, JSON.stringify(options));
  }
  await assert.rejects(client.enqueueMany([{ type: "t" }, { type: "bad type" }]), EnqueueError);
  assert.equal(await t.redis.exists(`${t.prefix}:queues`, `${t.base()}:ready`), 0);
}));

test("the first push on an empty list publishes a wake-up", () => withClient("wake", async (t, client) => {
  const subscriber = t.redis.duplicate();
  const messages = [];
  subscriber.on("message", (_channel, message) => messages.push(message));
  await subscriber.subscribe(`${t.base()}:events`);
  await client.enqueueMany([{ type: "t" }, { type: "t" }]);
  await client.enqueue("t", {});
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(messages, ["r"]);
  subscriber.disconnect();
}));

test("a tracked job gets its status before its record; status() reads it", () => withClient("track", async (t, client) => {
  const id = await client.enqueue("answer", { q: 1 }, { track: true });
  assert.equal(await t.redis.hget(`${t.base()}:status:${id}`, "state"), "queued");
  assert.ok(await t.redis.pttl(`${t.base()}:status:${id}`) > 6 * 24 * 3600 * 1000);
  const status = await client.status("default", id);
  assert.equal(status.state, "queued");
  assert.equal(status.result, null);
  await t.redis.hset(`${t.base()}:status:${id}`, "state", "succeeded", "result", '{"answer":42}');
  assert.deepEqual((await client.status("default", id)).result, { answer: 42 });
  assert.equal(await client.status("default", "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9d"), null);
}));

test("a script Redis does not know is loaded and the call repeated", () => withClient("noscript", async (t) => {
  // A copy of the scripts with one changed byte: a SHA Redis has never seen
  // (the shared Redis is never flushed), so the call meets NOSCRIPT first.
  const dir = mkdtempSync(join(tmpdir(), "jqts-"));
  try {
    cpSync(luaDir(), join(dir, "lua"), { recursive: true, dereference: true });
    const file = join(dir, "lua", "enqueue_priority.lua");
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from(`-- ${t.prefix}\n`)]));
    const client = new Client(t.redis, { prefix: t.prefix, scripts: new Scripts(join(dir, "lua")) });
    await client.enqueue("t", {}, { priority: 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(await t.redis.zcard(`${t.base()}:priority`), 1);
}));

test("a chain: the first job is ready with dependents, the others wait for their parent", () => withClient("chain", async (t, client) => {
  const ids = await client.chain([
    { type: "step", payload: { n: 1 } },
    { type: "step", payload: { n: 2 }, queue: "other" },
    { type: "step", payload: { n: 3 } },
  ]);
  assert.equal(ids.length, 3);
  const ready = await t.redis.lrange(`${t.base()}:ready`, 0, -1);
  assert.deepEqual(ready.map(idOf), [ids[0]]);
  assert.equal(JSON.parse(ready[0].split("\n")[0]).dependents, true);
  assert.equal(await t.redis.hget(`${t.base()}:parent:${ids[0]}`, "state"), "pending");
  assert.equal(await t.redis.hget(`${t.base()}:parent:${ids[0]}`, `c|other|${ids[1]}`), "1");
  assert.notEqual(await t.redis.zscore(`${t.base("other")}:waiting`, ids[1]), null);
  assert.notEqual(await t.redis.zscore(`${t.base()}:waiting`, ids[2]), null);
  const second = JSON.parse((await t.redis.hget(`${t.base("other")}:jobs`, ids[1])).split("\n")[0]);
  assert.deepEqual([second.dependents, second.after], [true, [{ id: ids[0], queue: "default" }]]);
  const third = JSON.parse((await t.redis.hget(`${t.base()}:jobs`, ids[2])).split("\n")[0]);
  assert.deepEqual([third.dependents, third.after], [undefined, [{ id: ids[1], queue: "other" }]]);
  await assert.rejects(client.chain([{ type: "a" }, { type: "b", uniqueForMs: 1000 }]), EnqueueError);
}));

test("an idempotency key admits one job per window, with the Rust client's marker", () => withClient("idem", async (t, client) => {
  const [first] = await client.submit([{ type: "charge", payload: { order: 7 }, idempotencyKey: "checkout-7", idempotencyWindowMs: 60_000 }]);
  assert.equal(first.status, "enqueued");
  const [again] = await client.submit([{ type: "charge", payload: { order: 7 }, idempotencyKey: "checkout-7", idempotencyWindowMs: 60_000 }]);
  assert.deepEqual(again, { id: first.id, status: "exists" });
  await assert.rejects(client.enqueue("charge", { order: 8 }, { idempotencyKey: "checkout-7" }), /held by job/);
  const marker = `${t.base()}:idem:${createHash("sha256").update("checkout-7").digest("hex")}`;
  const digest = createHash("sha1").update('charge\n{"order":7}').digest("hex");
  assert.equal(await t.redis.get(marker), `${first.id} ${digest}`);
  const ttl = await t.redis.pttl(marker);
  assert.ok(ttl > 50_000 && ttl <= 60_000, `ttl ${ttl}`);
  assert.deepEqual((await t.redis.lrange(`${t.base()}:ready`, 0, -1)).map(idOf), [first.id]);
  const later = await client.enqueue("charge", { order: 9 }, { idempotencyKey: "checkout-9", delayMs: 60_000 });
  assert.notEqual(await t.redis.zscore(`${t.base()}:scheduled`, later), null);
  await assert.rejects(client.enqueue("charge", {}, { idempotencyKey: "k", tags: ["a"] }), EnqueueError);
  await assert.rejects(client.enqueue("charge", {}, { idempotencyWindowMs: 5 }), EnqueueError);
  await assert.rejects(client.enqueue("charge", {}, { idempotencyKey: "" }), EnqueueError);
}));
