#!/usr/bin/env python3
"""BENCH.md workloads for the Python client: w1 (drain), w2_single, w2_bulk.

  python3 clients/python/bench/bench.py w1 --url redis://127.0.0.1:6379
  python3 clients/python/bench/bench.py w2_single
  python3 clients/python/bench/bench.py w2_bulk

Prints one JSON line with the fields BENCH.md names. Uses a fresh prefix
and deletes its keys afterwards (run it against a Redis of its own).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time

import redis
import redis.asyncio

from jobqueue_client import Client, Job, Worker, __version__


def payload(i: int) -> dict:
    return {"user_id": i, "email": f"user{i}@example.com", "action": "welcome",
            "pad": "xxxxxxxxxxxxxxxxxxxxxxxx"}


def bulk_enqueue(client: Client, n: int, batch: int) -> float:
    start = time.perf_counter()
    for first in range(0, n, batch):
        client.enqueue_many([Job("noop", payload(i)) for i in range(first, min(n, first + batch))])
    return time.perf_counter() - start


async def drain(url: str, prefix: str, n: int, concurrency: int) -> dict:
    conn = redis.asyncio.Redis.from_url(url)
    first_start: list = []

    async def noop(_payload: dict, _ctx: object) -> None:
        if not first_start:
            first_start.append(time.perf_counter())

    boot = time.perf_counter()
    worker = Worker(conn, ["default"], prefix, concurrency=concurrency, fetch_batch=100)
    worker.register("noop", noop)
    task = asyncio.create_task(worker.run(install_signal_handlers=False))
    stats = f"{prefix}:{{default}}:stats"
    while True:
        await asyncio.sleep(0.02)
        done = int(await conn.hget(stats, "processed") or 0)
        if done >= n:
            break
    end = time.perf_counter()
    worker.stop()
    await task
    failed = int(await conn.hget(stats, "failed") or 0)
    await (conn.aclose() if hasattr(conn, "aclose") else conn.close())
    drain_s = end - first_start[0]
    return {"n": n, "c": concurrency, "jobs_per_s": round(n / drain_s), "drain_s": round(drain_s, 3),
            "boot_s": round(first_start[0] - boot, 3), "processed": done, "failed": failed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["w1", "w2_single", "w2_bulk"])
    parser.add_argument("--url", default="redis://127.0.0.1:6379")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    prefix = f"pybench-{secrets.token_hex(4)}"
    client = Client.from_url(args.url, prefix)
    result: dict = {"system": "jobqueue-python", "version": __version__, "workload": args.workload}
    try:
        if args.workload == "w1":
            n = args.jobs or 50_000
            result["bulk_enqueue_s"] = round(bulk_enqueue(client, n, args.batch), 3)
            result.update(asyncio.run(drain(args.url, prefix, n, args.concurrency)))
        elif args.workload == "w2_single":
            n = args.jobs or 20_000
            start = time.perf_counter()
            for i in range(n):
                client.enqueue("noop", payload(i))
            seconds = time.perf_counter() - start
            result.update({"n": n, "ops_per_s": round(n / seconds), "seconds": round(seconds, 3)})
        else:
            n = args.jobs or 20_000
            seconds = bulk_enqueue(client, n, args.batch)
            result.update({"n": n, "batch": args.batch, "jobs_per_s": round(n / seconds),
                           "seconds": round(seconds, 3)})
    finally:
        sync = redis.Redis.from_url(args.url)
        keys = list(sync.scan_iter(match=f"{prefix}:*", count=1000))
        for first in range(0, len(keys), 1000):
            sync.delete(*keys[first:first + 1000])
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
