// The conformance adapter (conformance/adapters/typescript/adapter.mjs,
// conformance/ADAPTER.md): produce mode answers one line per request, in
// order; worker mode prints its ready line, runs the conformance handlers and
// stops cleanly on SIGTERM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { REDIS_URL, isolated, until } from "./support.mjs";

const ADAPTER = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "conformance", "adapters", "typescript", "adapter.mjs");

/** Runs produce mode with `requests` (objects, or raw text lines); returns the parsed response lines. */
function produce(prefix, requests) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ADAPTER, "produce", "--url", REDIS_URL, "--prefix", prefix], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { err += d; });
    child.on("exit", (code) => (code === 0 ? resolve(out.trim().split("\n").map((l) => JSON.parse(l))) : reject(new Error(`exit ${code}: ${err}`))));
    child.stdin.end(requests.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n") + "\n");
  });
}

test("the adapter's produce and worker modes follow ADAPTER.md", { skip: !existsSync(ADAPTER) }, async () => {
  const t = isolated("adapter");
  try {
    const recordKey = `${t.prefix}:runs`;
    const replies = await produce(t.prefix, [
      { op: "enqueue", queue: "q", type: "conformance.echo", payload: { a: 1 }, options: { track: true } },
      { op: "enqueue", queue: "q", type: "conformance.fail", payload: { message: "boom", succeed_on_attempt: 2 },
        options: { backoff: { fixed_ms: 50 }, track: true } },
      { op: "enqueue", queue: "q", type: "conformance.permanent", payload: { message: "no" }, options: { max_attempts: 5 } },
      { op: "enqueue_many", queue: "q", jobs: [{ type: "conformance.record", payload: { key: recordKey } },
        { type: "conformance.record", payload: { key: recordKey }, options: { priority: 5 } }] },
      { op: "enqueue", queue: "q", type: "u", payload: {}, options: { unique_for_ms: 60_000 } },
      { op: "enqueue", queue: "q", type: "u", payload: {}, options: { unique_for_ms: 60_000 } },
      { op: "enqueue", queue: "q", type: "t", options: { priority: 500 } },
      { op: "chain", queue: "c", jobs: [{ type: "conformance.echo" }, { type: "conformance.echo" }] },
      { op: "enqueue", queue: "i", type: "t", payload: { n: 1 }, options: { idempotency_key: "k", idempotency_window_ms: 60_000 } },
      { op: "enqueue", queue: "i", type: "t", payload: { n: 1 }, options: { idempotency_key: "k", idempotency_window_ms: 60_000 } },
      { op: "enqueue", queue: "i", type: "t", payload: { n: 2 }, options: { idempotency_key: "k" } },
      "not json",
    ]);
    assert.equal(replies.length, 12);
    const [echo, fail, permanent, many, unique, duplicate, bad, chain, keyed, keyedAgain, keyedOther, garbage] = replies;
    assert.deepEqual(keyedAgain, { ok: true, id: keyed.id, duplicate: true });
    assert.deepEqual([keyedOther.ok, keyedOther.error], [false, "duplicate"]);
    assert.ok(echo.ok && fail.ok && permanent.ok && many.ok && many.ids.length === 2);
    assert.deepEqual(duplicate, { ok: true, id: unique.id, duplicate: true });
    assert.deepEqual([bad.ok, bad.error], [false, "invalid"]);
    assert.deepEqual([chain.ok, chain.ids.length], [true, 2]);
    assert.notEqual(await t.redis.zscore(`${t.base("c")}:waiting`, chain.ids[1]), null);
    assert.deepEqual([garbage.ok, garbage.error], [false, "invalid"]);

    const child = spawn(process.execPath, [ADAPTER, "worker", "--url", REDIS_URL, "--prefix", t.prefix, "--queues", "q",
      "--concurrency", "4", "--shutdown-grace-ms", "500"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    try {
      await until(async () => (await t.redis.zcard(`${t.base("q")}:dead`)) === 2 && (await t.redis.llen(recordKey)) === 2
        && (await produce(t.prefix, [{ op: "status", queue: "q", id: fail.id }]))[0].status?.state === "succeeded", 15_000, "the jobs");
      child.kill("SIGTERM");
      assert.equal(await exited, 0, stderr);
    } finally {
      child.kill("SIGKILL");
    }
    const ready = JSON.parse(stdout.trim().split("\n")[0]);
    assert.deepEqual(Object.keys(ready), ["ready", "worker_id", "language"]);
    assert.deepEqual([ready.ready, ready.language], [true, "typescript"]);
    const [status] = await produce(t.prefix, [{ op: "status", queue: "q", id: echo.id }]);
    assert.deepEqual(status, { ok: true, status: { state: "succeeded", result: { a: 1 }, error: null } });
    const runs = (await t.redis.lrange(recordKey, 0, -1)).map((line) => JSON.parse(line));
    assert.equal(runs[0].id, many.ids[1], "the prioritised record job ran first");
    assert.deepEqual(runs.map((r) => [r.attempt, r.language]), [[1, "typescript"], [1, "typescript"]]);
    const dead = await t.redis.zrange(`${t.base("q")}:dead`, 0, -1);
    assert.deepEqual(new Set(dead), new Set([permanent.id, unique.id]), "permanent at once; type u has no handler");
  } finally {
    await t.cleanup();
  }
});
