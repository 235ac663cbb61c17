"""The asyncio worker against a real Redis: outcomes, counters, hand-back, reaping."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import unittest
from pathlib import Path
from typing import Any, Awaitable, Callable

import redis.asyncio

from jobqueue_client import Backoff, Client, JobContext, PermanentError, Worker
from support import REDIS_URL, RedisTestCase, close_async


class WorkerTests(RedisTestCase):
    async def asyncSetUp(self) -> None:
        self.conn = redis.asyncio.Redis.from_url(REDIS_URL)
        self.client = Client.from_url(REDIS_URL, prefix=self.prefix)
        self.base = f"{self.prefix}:{{default}}"

    async def asyncTearDown(self) -> None:
        await close_async(self.conn)

    def worker(self, **options: Any) -> Worker:
        options.setdefault("idle_poll_s", 0.2)
        return Worker(self.conn, ["default"], self.prefix, **options)

    async def run_until(self, worker: Worker, done: Callable[[], Awaitable[bool]],
                        timeout: float = 10.0) -> None:
        task = asyncio.create_task(worker.run(install_signal_handlers=False))
        deadline = time.monotonic() + timeout
        try:
            while not await done():
                self.assertLess(time.monotonic(), deadline, "timed out")
                self.assertFalse(task.done(), "the worker stopped early")
                await asyncio.sleep(0.05)
        finally:
            worker.stop()
            await asyncio.wait_for(task, 30)

    async def stat(self, field: str) -> int:
        return int(await self.conn.hget(f"{self.base}:stats", field) or 0)

    async def dead_envelope(self, job_id: str) -> dict:
        record = await self.conn.hget(f"{self.base}:jobs", job_id)
        self.assertIsNotNone(record, f"job {job_id} is not in the jobs hash")
        return json.loads(record.split(b"\n", 1)[0])

    async def test_jobs_run_with_their_payload_and_are_counted_processed(self) -> None:
        seen: list = []

        async def greet(payload: Any, ctx: JobContext) -> None:
            seen.append((payload["name"], ctx.attempt, ctx.queue))

        def shout(payload: Any, ctx: JobContext) -> None:  # a plain function runs in a thread
            seen.append((payload["name"].upper(), ctx.attempt, ctx.queue))

        worker = self.worker(concurrency=4)
        worker.register("greet", greet)
        worker.register("shout", shout)
        ids = [self.client.enqueue("greet", {"name": f"n{i}"}) for i in range(20)]
        self.client.enqueue("shout", {"name": "ada"}, priority=3)

        async def done() -> bool:
            return await self.stat("processed") == 21
        await self.run_until(worker, done)
        self.assertEqual(len(seen), 21)
        self.assertIn(("ADA", 1, "default"), seen)
        self.assertEqual(await self.conn.hlen(f"{self.base}:active:{worker.id}"), 0)
        self.assertEqual(await self.stat("failed"), 0)
        self.assertEqual(len(ids), 20)

    async def test_a_failing_job_is_retried_with_backoff_then_dead_with_its_traceback(self) -> None:
        runs: list = []

        async def flaky(payload: Any, ctx: JobContext) -> None:
            runs.append(ctx.attempt)
            raise ValueError(f"bad input {payload['n']}")

        worker = self.worker()
        worker.register("flaky", flaky, max_attempts=3, backoff=Backoff.fixed(100))
        job_id = self.client.enqueue("flaky", {"n": 7})

        async def done() -> bool:
            return await self.conn.zscore(f"{self.base}:dead", job_id) is not None
        await self.run_until(worker, done)
        self.assertEqual(runs, [1, 2, 3])
        envelope = await self.dead_envelope(job_id)
        self.assertEqual(envelope["attempt"], 3)
        self.assertEqual([e["attempt"] for e in envelope["errors"]], [1, 2, 3])
        message = envelope["errors"][-1]["message"]
        self.assertTrue(message.startswith("ValueError: bad input 7"), message)
        self.assertIn("Traceback (most recent call last)", message)
        self.assertIn("in flaky", message)
        self.assertEqual(envelope["errors"][-1]["kind"], "error")
        self.assertEqual((await self.stat("failed"), await self.stat("dead")), (3, 1))

    async def test_jobs_that_cannot_run_go_to_the_dead_set_with_the_reason(self) -> None:
        async def strict(payload: Any, ctx: JobContext) -> None:
            raise PermanentError("card declined")

        worker = self.worker()
        worker.register("strict", strict)
        permanent = self.client.enqueue("strict", {})
        unknown = self.client.enqueue("nobody.handles.this", {})
        exhausted = self.client.enqueue("strict", {}, max_attempts=1)
        # A record whose payload is not JSON, and one that is no record at all.
        bad_payload = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9e"
        await self.conn.rpush(f"{self.base}:ready",
                              ('{"id":"%s","type":"strict"}\nnot json' % bad_payload).encode())
        await self.conn.rpush(f"{self.base}:ready", b"garbage without a newline, long enough")
        await self.conn.hset(f"{self.base}:jobs", "placeholder", "x")  # the hash exists either way
        # Make `exhausted` look like it already ran once (lost with a crashed worker).
        records = await self.conn.lrange(f"{self.base}:ready", 0, -1)
        for record in records:
            if record[7:43].decode() == exhausted:
                await self.conn.lrem(f"{self.base}:ready", 1, record)
                await self.conn.rpush(f"{self.base}:ready",
                                      record.replace(b'"type":"strict"', b'"type":"strict","attempt":1'))

        async def done() -> bool:
            return await self.conn.zcard(f"{self.base}:dead") == 5
        await self.run_until(worker, done)
        kinds = {}
        for job_id in (permanent, unknown, exhausted, bad_payload):
            envelope = await self.dead_envelope(job_id)
            kinds[job_id] = (envelope["errors"][-1]["kind"], envelope["errors"][-1]["message"])
        self.assertEqual(kinds[permanent][0], "error")
        self.assertIn("PermanentError: card declined", kinds[permanent][1])
        self.assertEqual(kinds[unknown][0], "unknown_type")
        self.assertIn("nobody.handles.this", kinds[unknown][1])
        self.assertEqual(kinds[exhausted][0], "exhausted")
        self.assertEqual(kinds[bad_payload][0], "payload")
        self.assertEqual(await self.stat("dead"), 5)

    async def test_an_encoded_payload_is_refused_not_run(self) -> None:
        ran = []

        async def handler(payload: Any, ctx: JobContext) -> None:
            ran.append(payload)

        worker = self.worker()
        worker.register("secret", handler)
        # As a Rust producer with a payload codec writes them (compressed; encrypted).
        compressed = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9f"
        encrypted = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8ca0"
        await self.conn.sadd(f"{self.prefix}:queues", "default")
        await self.conn.rpush(f"{self.base}:ready",
                              ('{"id":"%s","type":"secret","enc":"zstd"}\n"KLUv/QBYYQAAe30="'
                               % compressed).encode())
        await self.conn.rpush(f"{self.base}:ready",
                              ('{"id":"%s","type":"secret","enc":"xchacha20poly1305:k1"}\n"AAAA"'
                               % encrypted).encode())

        async def done() -> bool:
            return await self.conn.zcard(f"{self.base}:dead") == 2
        await self.run_until(worker, done)
        self.assertEqual(ran, [])
        for job_id, encoding in ((compressed, "zstd"), (encrypted, "xchacha20poly1305:k1")):
            error = (await self.dead_envelope(job_id))["errors"][-1]
            self.assertEqual(error["kind"], "payload")
            self.assertIn(f"the payload is encoded ({encoding})", error["message"])

    async def test_stopping_hands_back_the_jobs_it_did_not_finish(self) -> None:
        started = asyncio.Event()

        async def slow(payload: Any, ctx: JobContext) -> None:
            started.set()
            await asyncio.sleep(60)

        worker = self.worker(concurrency=1, shutdown_grace_s=0.2)
        worker.register("slow", slow)
        ids = [self.client.enqueue("slow", {"n": n}) for n in range(3)]
        task = asyncio.create_task(worker.run(install_signal_handlers=False))
        await asyncio.wait_for(started.wait(), 10)
        worker.stop()
        await asyncio.wait_for(task, 10)
        ready = await self.conn.lrange(f"{self.base}:ready", 0, -1)
        self.assertEqual([r[7:43].decode() for r in ready], ids)
        self.assertNotIn(b'"attempt"', ready[0], "a hand-back counts no attempt")
        self.assertEqual(await self.conn.exists(f"{self.base}:active:{worker.id}",
                                                f"{self.prefix}:worker:{worker.id}"), 0)
        self.assertIsNone(await self.conn.zscore(f"{self.base}:leases", worker.id))

    async def test_it_shows_as_a_worker_and_reclaims_a_lapsed_workers_jobs(self) -> None:
        # A worker that died: its lease lapsed, one job still in its active hash.
        job_id = self.client.enqueue("noop", {})
        record = (await self.conn.lpop(f"{self.base}:ready"))
        await self.conn.hset(f"{self.base}:active:dead-worker", job_id, record)
        await self.conn.zadd(f"{self.base}:leases", {"dead-worker": 1})
        ran: list = []

        async def noop(payload: Any, ctx: JobContext) -> None:
            ran.append(ctx.attempt)

        worker = self.worker(reap_interval_s=0.2)
        worker.register("noop", noop)
        info: dict = {}

        async def done() -> bool:
            info.update(await self.conn.hgetall(f"{self.prefix}:worker:{worker.id}"))
            return bool(ran)
        await self.run_until(worker, done)
        self.assertEqual(ran, [2], "the lost run counts as an attempt")
        self.assertEqual(await self.stat("reclaimed"), 1)
        self.assertEqual(info[b"language"], b"python")
        self.assertEqual(info[b"queues"], b"default")
        self.assertIn(b"python", info[b"version"])

    async def test_due_scheduled_jobs_are_promoted(self) -> None:
        ran: list = []

        async def noop(payload: Any, ctx: JobContext) -> None:
            ran.append(time.monotonic())

        worker = self.worker()
        worker.register("noop", noop)
        enqueued = time.monotonic()
        self.client.enqueue("noop", {}, delay=0.5)

        async def done() -> bool:
            return bool(ran)
        await self.run_until(worker, done)
        self.assertGreaterEqual(ran[0] - enqueued, 0.45)

    async def test_an_idle_worker_is_woken_by_the_enqueue(self) -> None:
        ran = asyncio.Event()

        async def noop(payload: Any, ctx: JobContext) -> None:
            ran.set()

        # A poll far beyond the test's patience: only the `r` wake-up can bring the job.
        worker = self.worker(idle_poll_s=300)
        worker.register("noop", noop)
        task = asyncio.create_task(worker.run(install_signal_handlers=False))
        await asyncio.sleep(0.5)  # idle, subscribed
        self.client.enqueue("noop", {})
        try:
            await asyncio.wait_for(ran.wait(), 5)
        finally:
            worker.stop()
            await asyncio.wait_for(task, 10)

    async def test_a_job_past_its_expiry_is_dropped_not_run(self) -> None:
        ran: list = []

        async def noop(payload: Any, ctx: JobContext) -> None:
            ran.append(ctx.id)

        worker = self.worker()
        worker.register("noop", noop)
        stale = self.client.enqueue("noop", {"n": 1})
        fresh = self.client.enqueue("noop", {"n": 2})
        # A Rust producer's `expires_in`: the envelope's expires_at member (past, then future).
        records = await self.conn.lrange(f"{self.base}:ready", 0, -1)
        await self.conn.delete(f"{self.base}:ready")
        for record, at in zip(records, (1_000, 4_102_444_800_000)):
            await self.conn.rpush(f"{self.base}:ready", record.replace(
                b'"type":"noop"', b'"type":"noop","expires_at":%d' % at))

        async def done() -> bool:
            return bool(ran) and await self.stat("expired") == 1
        await self.run_until(worker, done)
        self.assertEqual(ran, [fresh])
        self.assertIsNotNone(await self.conn.zscore(f"{self.base}:expired", stale))

    async def test_tracked_jobs_get_their_status_and_result(self) -> None:
        async def answer(payload: Any, ctx: JobContext) -> Any:
            if payload["fail"]:
                raise RuntimeError("no answer")
            return {"answer": 42}

        worker = self.worker()
        worker.register("answer", answer, max_attempts=1)
        good = self.client.enqueue("answer", {"fail": False}, track=True)
        bad = self.client.enqueue("answer", {"fail": True}, track=True)
        self.assertEqual(self.sync.hget(f"{self.base}:status:{good}", "state"), b"queued")
        self.assertGreater(self.sync.pttl(f"{self.base}:status:{good}"), 6 * 24 * 3600 * 1000)

        async def done() -> bool:
            states = [await self.conn.hget(f"{self.base}:status:{i}", "state") for i in (good, bad)]
            return states == [b"succeeded", b"dead"]
        await self.run_until(worker, done)
        status = self.sync.hgetall(f"{self.base}:status:{good}")
        self.assertEqual(json.loads(status[b"result"]), {"answer": 42})
        self.assertLessEqual(self.sync.pttl(f"{self.base}:status:{good}"), 300_000)
        error = self.sync.hget(f"{self.base}:status:{bad}", "error").decode()
        self.assertTrue(error.startswith("RuntimeError: no answer"), error)

    def test_sigterm_stops_the_command_line_worker_and_hands_jobs_back(self) -> None:
        handlers = Path(__file__).with_name("slow_handlers.py")
        ids = [self.client.enqueue("slow", {}) for _ in range(3)]
        env = dict(os.environ, PYTHONPATH=str(handlers.parent))
        process = subprocess.Popen(
            [sys.executable, "-m", "jobqueue_client.worker", "--url", REDIS_URL, "--prefix",
             self.prefix, "--queues", "default", "--concurrency", "2", "--handlers", "slow_handlers"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 10
            while self.sync.llen(f"{self.base}:ready") > 1:
                self.assertLess(time.monotonic(), deadline, "the worker never fetched")
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=40)
        finally:
            if process.poll() is None:
                process.kill()
        self.assertEqual(process.returncode, 0, output.decode())
        ready = self.sync.lrange(f"{self.base}:ready", 0, -1)
        self.assertEqual(sorted(r[7:43].decode() for r in ready), sorted(ids), output.decode())
        self.assertEqual(self.sync.zcard(f"{self.prefix}:workers"), 0)


if __name__ == "__main__":
    unittest.main()
