"""The worker's feature paths against a real Redis: chains and the release
outbox, flow keys and queue flow limits across several workers, expiry of
a parent, progress reports."""

from __future__ import annotations

import asyncio
import json
import time
import unittest
from typing import Any, Awaitable, Callable, List

import redis.asyncio

from jobqueue_client import Backoff, Client, Job, JobContext, PermanentError, Worker
from support import REDIS_URL, RedisTestCase, close_async


class Concurrency:
    """Counts jobs running at once, and the most seen."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.done = 0

    async def run(self, seconds: float) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.now -= 1
            self.done += 1


class WorkerFeatureTests(RedisTestCase):
    async def asyncSetUp(self) -> None:
        self.conn = redis.asyncio.Redis.from_url(REDIS_URL)
        self.client = Client.from_url(REDIS_URL, prefix=self.prefix)
        self.base = f"{self.prefix}:{{default}}"

    async def asyncTearDown(self) -> None:
        self.client.close()
        await close_async(self.conn)

    def worker(self, **options: Any) -> Worker:
        options.setdefault("idle_poll_s", 0.2)
        return Worker(self.conn, ["default"], self.prefix, **options)

    async def run_until(self, workers: List[Worker], done: Callable[[], Awaitable[bool]],
                        timeout: float = 15.0) -> None:
        tasks = [asyncio.create_task(w.run(install_signal_handlers=False)) for w in workers]
        deadline = time.monotonic() + timeout
        try:
            while not await done():
                self.assertLess(time.monotonic(), deadline, "timed out")
                self.assertFalse(any(t.done() for t in tasks), "a worker stopped early")
                await asyncio.sleep(0.05)
        finally:
            for worker in workers:
                worker.stop()
            await asyncio.wait_for(asyncio.gather(*tasks), 30)

    async def stat(self, field: str) -> int:
        return int(await self.conn.hget(f"{self.base}:stats", field) or 0)

    async def test_a_chain_runs_in_order_and_hands_results_to_dependents(self) -> None:
        order: List[int] = []

        async def step(payload: Any, ctx: JobContext) -> Any:
            order.append(payload["n"])
            return {"step": payload["n"]}

        worker = self.worker(concurrency=4)
        worker.register("step", step)
        ids = self.client.chain([Job("step", {"n": n}) for n in range(4)])

        async def done() -> bool:
            return await self.stat("processed") == 4
        await self.run_until([worker], done)
        self.assertEqual(order, [0, 1, 2, 3])
        self.assertEqual(await self.conn.zcard(f"{self.base}:waiting"), 0)
        self.assertEqual(await self.conn.zcard(f"{self.base}:releases"), 0)
        parent = await self.conn.hgetall(f"{self.base}:parent:{ids[0]}")
        self.assertEqual(parent[b"state"], b"succeeded")
        self.assertEqual(json.loads(parent[b"result"]), {"step": 0})

    async def test_a_dead_parent_dead_letters_or_skips_its_dependents(self) -> None:
        async def doomed(payload: Any, ctx: JobContext) -> None:
            raise PermanentError("no way")

        async def never(payload: Any, ctx: JobContext) -> None:
            raise AssertionError("a dependent of a dead parent ran")

        worker = self.worker()
        worker.register("doomed", doomed)
        worker.register("never", never)
        parent = self.client.enqueue("doomed", {}, dependents=True)
        dead_child = self.client.enqueue("never", {"n": 1}, after=[parent])
        skipped = self.client.enqueue("never", {"n": 2}, after=[parent], on_parent_failure="skip")

        async def done() -> bool:
            return await self.conn.zscore(f"{self.base}:dead", dead_child) is not None \
                and await self.conn.hget(f"{self.base}:deps:{skipped}", "left") == b"skipped"
        await self.run_until([worker], done)
        self.assertIsNotNone(await self.conn.zscore(f"{self.base}:dead", parent))
        self.assertEqual(await self.conn.hget(f"{self.base}:parent:{parent}", "state"), b"failed")
        self.assertEqual(await self.conn.zcard(f"{self.base}:releases"), 0)

    async def test_an_expired_parent_is_a_dead_parent_to_its_dependents(self) -> None:
        async def noop(payload: Any, ctx: JobContext) -> None:
            pass

        worker = self.worker()
        worker.register("noop", noop)
        parent = self.client.enqueue("noop", {}, dependents=True, expires_in=0.001, delay=0.2)
        child = self.client.enqueue("noop", {}, after=[parent])

        async def done() -> bool:
            return await self.conn.zscore(f"{self.base}:dead", child) is not None
        await self.run_until([worker], done)
        self.assertIsNotNone(await self.conn.zscore(f"{self.base}:expired", parent))

    async def test_one_flow_key_runs_one_job_at_a_time_across_workers(self) -> None:
        seen = Concurrency()

        async def sync_account(payload: Any, ctx: JobContext) -> None:
            await seen.run(0.03)

        workers = [self.worker(concurrency=5) for _ in range(2)]
        for worker in workers:
            worker.register("sync", sync_account)
        self.client.enqueue_many([Job("sync", {"n": n}, flow_key="account:7") for n in range(8)]
                                 + [Job("sync", {"n": n}, flow_key="account:8") for n in range(2)])

        async def done() -> bool:
            return await self.stat("processed") == 10
        await self.run_until(workers, done)
        self.assertEqual(seen.done, 10)
        self.assertLessEqual(seen.most, 2)  # one per key, two keys
        self.assertEqual(await self.conn.hlen(f"{self.base}:grun"), 0)

    async def test_a_keyed_unique_job_that_fails_is_retried_in_its_key_then_frees_key_and_lock(
            self) -> None:
        runs: List[int] = []

        async def flaky(payload: Any, ctx: JobContext) -> None:
            runs.append(ctx.attempt)
            if ctx.attempt == 1:
                raise RuntimeError("first attempt fails")

        worker = self.worker()
        worker.register("flaky", flaky, backoff=Backoff.fixed(50))
        outcome = self.client.enqueue_unique("flaky", {}, flow_key="account:1", unique_for=60)

        async def done() -> bool:
            return await self.stat("processed") == 1
        await self.run_until([worker], done)
        self.assertEqual(runs, [1, 2])
        self.assertEqual(await self.stat("failed"), 1)
        self.assertEqual(await self.conn.hlen(f"{self.base}:grun"), 0)
        self.assertEqual(await self.conn.zcard(f"{self.base}:gready"), 0)
        digest = json.loads((await self.conn.hget(f"{self.base}:jobs", outcome.id) or b"{}\n")
                            .split(b"\n")[0]).get("unique")
        self.assertIsNone(digest, "the job left the jobs hash")
        self.assertEqual(await self.conn.keys(f"{self.base}:unique:*"), [], "the lock was freed")

    async def test_a_queues_running_limit_holds_across_workers(self) -> None:
        seen = Concurrency()

        async def slow(payload: Any, ctx: JobContext) -> None:
            await seen.run(0.05)

        await self.conn.hset(f"{self.base}:limits", "max_running", 2)
        workers = [self.worker(concurrency=5) for _ in range(2)]
        for worker in workers:
            worker.register("slow", slow)
        self.client.enqueue_many([Job("slow", {"n": n}) for n in range(12)])

        async def done() -> bool:
            return await self.stat("processed") == 12
        await self.run_until(workers, done)
        self.assertEqual(seen.most, 2)

    async def test_a_cancel_that_comes_before_the_fetch_reply_keeps_the_job_from_starting(
            self) -> None:
        ran: List[str] = []

        async def noop(payload: Any, ctx: JobContext) -> None:
            ran.append(ctx.id)

        worker = self.worker()
        worker.register("noop", noop)
        keys = worker.queues[0]
        cancelled = self.client.enqueue("noop", {"n": 1})
        requeued = self.client.enqueue("noop", {"n": 2})
        first, second = await self.conn.lrange(f"{self.base}:ready", 0, -1)
        # `c<id>` for both before their fetch replies; cancel.lua took the
        # first out of the active hash, the second is leased here (retried since).
        worker._cancel(cancelled)
        worker._cancel(requeued)
        await self.conn.hset(keys.active(worker.id), requeued, second)
        await worker._run_job(keys, first)
        await worker._run_job(keys, second)
        self.assertEqual(ran, [requeued])

    async def test_progress_reports_are_written_to_the_status(self) -> None:
        reported = asyncio.Event()
        finish = asyncio.Event()

        async def report(payload: Any, ctx: JobContext) -> None:
            await ctx.progress(140, "x" * 600)
            reported.set()
            await finish.wait()

        worker = self.worker()
        worker.register("report", report)
        job_id = self.client.enqueue("report", {})
        key = f"{self.base}:status:{job_id}"

        async def done() -> bool:
            if reported.is_set() and not finish.is_set():
                status = await self.conn.hgetall(key)
                self.assertEqual((status[b"state"], status[b"percent"], status[b"stale"]),
                                 (b"running", b"100", b"0"))
                self.assertEqual(len(status[b"message"]), 512)
                seen = self.client.status(job_id)
                self.assertEqual((seen.state, seen.percent, seen.stale) if seen else None,
                                 ("running", 100, False))
                finish.set()
            return await self.conn.hget(key, "state") == b"succeeded"
        await self.run_until([worker], done)
        final = self.client.status(job_id)
        self.assertEqual(final.state if final else None, "succeeded")
        self.assertIsNone(self.client.status(job_id, queue="elsewhere"))


if __name__ == "__main__":
    unittest.main()
