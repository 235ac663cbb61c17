#!/usr/bin/env python3
"""The same workloads on BullMQ's Python package, for comparison.

  python3 -m venv /tmp/bullvenv && /tmp/bullvenv/bin/pip install bullmq
  /tmp/bullvenv/bin/python clients/python/bench/bullmq_bench.py w1 --url redis://127.0.0.1:6491

Same payload, concurrency and sizes as bench.py; jobs are removed on
completion (`removeOnComplete`), as jobqueue drops acknowledged jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time

from bullmq import Queue, Worker


def payload(i: int) -> dict:
    return {"user_id": i, "email": f"user{i}@example.com", "action": "welcome",
            "pad": "xxxxxxxxxxxxxxxxxxxxxxxx"}


OPTS = {"removeOnComplete": True}


async def bulk(queue: Queue, n: int, batch: int) -> float:
    start = time.perf_counter()
    for first in range(0, n, batch):
        await queue.addBulk([{"name": "noop", "data": payload(i), "opts": OPTS}
                             for i in range(first, min(n, first + batch))])
    return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=["w1", "w2_single", "w2_bulk"])
    parser.add_argument("--url", default="redis://127.0.0.1:6379")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    name = f"bullbench-{secrets.token_hex(4)}"
    queue = Queue(name, {"connection": args.url})
    result: dict = {"system": "bullmq-python", "workload": args.workload}
    if args.workload == "w2_single":
        n = args.jobs or 20_000
        start = time.perf_counter()
        for i in range(n):
            await queue.add("noop", payload(i), OPTS)
        seconds = time.perf_counter() - start
        result.update({"n": n, "ops_per_s": round(n / seconds), "seconds": round(seconds, 3)})
    elif args.workload == "w2_bulk":
        n = args.jobs or 20_000
        seconds = await bulk(queue, n, args.batch)
        result.update({"n": n, "batch": args.batch, "jobs_per_s": round(n / seconds),
                       "seconds": round(seconds, 3)})
    else:
        n = args.jobs or 50_000
        result["bulk_enqueue_s"] = round(await bulk(queue, n, args.batch), 3)
        done = asyncio.Event()
        state = {"first": 0.0, "count": 0}

        async def process(job, token):
            if not state["first"]:
                state["first"] = time.perf_counter()
            return None

        def completed(job, result):
            state["count"] += 1
            if state["count"] >= n:
                done.set()

        worker = Worker(name, process, {"connection": args.url, "concurrency": args.concurrency})
        worker.on("completed", completed)
        await done.wait()
        drain_s = time.perf_counter() - state["first"]
        await worker.close()
        result.update({"n": n, "c": args.concurrency, "jobs_per_s": round(n / drain_s),
                       "drain_s": round(drain_s, 3), "processed": state["count"]})
    await queue.obliterate(force=True)
    await queue.close()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
