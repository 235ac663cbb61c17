#!/usr/bin/env python3
"""A jobqueue worker in Python, beside (or instead of) Rust workers.

Runs the job types below from the same queues as the Rust examples, with
the `jobqueue_client` package (pip install ./clients/python):

  * `interop.greet` — the Rust `Greet { name: String, times: u32 }` of
    examples/tests/interop.rs: its payload arrives as the dict serde wrote;
  * `interop.resize` — a job type only Python handles; a payload without
    `width` fails with a traceback, retried twice, then dead (see the
    dashboard's Dead page, or `jobqueue jobs dead`);
  * `interop.wait` — sleeps `seconds`: a running job to cancel.

Run (from the repository root, a Redis 7+ at JOBQUEUE_REDIS_URL):

  python3 examples/interop/worker.py --queues default --concurrency 8

`python3 -m jobqueue_client.worker --handlers <module>` runs the same
`register` function of any module; Ctrl-C or SIGTERM stops gracefully.
"""

import asyncio
import logging
import sys
from pathlib import Path

import redis.asyncio

from jobqueue_client import Backoff, JobContext, PermanentError, Worker
from jobqueue_client.worker import main

log = logging.getLogger("interop.worker")


async def greet(payload: dict, ctx: JobContext) -> dict:
    """The Rust job's fields, as serde serialized them. What it returns is
    the job's result (`Client::wait_result` on the Rust side)."""
    if not payload.get("name"):
        raise PermanentError("no name")  # dead at once, like JobError::permanent
    for _ in range(payload.get("times", 1)):
        log.info("hello, %s (job %s, attempt %d)", payload["name"], ctx.id, ctx.attempt)
    return {"greeted": payload["name"], "times": payload.get("times", 1)}


def resize(payload: dict, ctx: JobContext) -> None:
    """A plain function runs in a thread; an exception fails the attempt."""
    width = payload["width"]  # KeyError → retried, then dead with the traceback
    log.info("resized %s to %d px", payload.get("image"), width)


async def wait(payload: dict, ctx: JobContext) -> None:
    """A long job: an operator's cancel (dashboard, `jobqueue cancel`,
    `Client::cancel`) stops it while it sleeps."""
    await asyncio.sleep(payload["seconds"])


async def slot(payload: dict, ctx: JobContext) -> None:
    """Holds a slot for `ms` and counts, in Redis, how many run at once
    (`<key>:running`, its peak in the zset `<key>:peak`) and who ran them
    (`<key>:ran`): the Rust `Slot` job of examples/tests/python_client.rs
    does the same, so a test sees both languages' workers under one limit."""
    conn = redis.asyncio.Redis.from_url(payload["url"])
    key = payload["key"]
    try:
        running = await conn.incr(f"{key}:running")
        await conn.zadd(f"{key}:peak", {"peak": running}, gt=True)
        await conn.hincrby(f"{key}:ran", "python", 1)
        await asyncio.sleep(payload["ms"] / 1000)
        await conn.decr(f"{key}:running")
    finally:
        await (conn.aclose() if hasattr(conn, "aclose") else conn.close())


def register(worker: Worker) -> None:
    """Called by `python -m jobqueue_client.worker --handlers <this module>`."""
    worker.register("interop.greet", greet)
    worker.register("interop.slot", slot)
    worker.register("interop.wait", wait)
    worker.register("interop.resize", resize, max_attempts=3, backoff=Backoff.fixed(200))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main(["--handlers", "worker", *sys.argv[1:]]))
