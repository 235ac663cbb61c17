"""``python -m jobqueue_client.worker``: runs a :class:`Worker` with the
handlers a module registers (``register(worker)``), until SIGTERM / SIGINT
or, with ``--exit-when-idle``, until its queues are idle (tests, benchmarks).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from typing import Optional, Sequence

import redis.asyncio

from .commands import Command, run_async
from .worker import Worker


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m jobqueue_client.worker``: runs a worker with the handlers of a module."""
    parser = argparse.ArgumentParser(description="Run a jobqueue worker in Python.")
    parser.add_argument("--url", default=os.environ.get("JOBQUEUE_REDIS_URL", "redis://127.0.0.1:6379"))
    parser.add_argument("--prefix", default=os.environ.get("JOBQUEUE_PREFIX") or "jq")
    parser.add_argument("--queues", default="default", help="comma-separated queue names")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--handlers", required=True,
                        help="module whose register(worker) function registers the job handlers")
    parser.add_argument("--lease-ms", type=int, default=30_000)
    parser.add_argument("--exit-when-idle", action="store_true",
                        help="stop once the queues are empty and nothing runs (tests, benchmarks)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("JOBQUEUE_LOG", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.path.insert(0, os.getcwd())
    module = importlib.import_module(args.handlers)

    async def serve() -> None:
        client = redis.asyncio.Redis.from_url(args.url)
        worker = Worker(client, [q for q in args.queues.split(",") if q], args.prefix,
                        args.concurrency, args.lease_ms)
        module.register(worker)
        watcher = asyncio.create_task(_stop_when_idle(worker)) if args.exit_when_idle else None
        await worker.run()
        if watcher:
            watcher.cancel()
        await client.aclose() if hasattr(client, "aclose") else await client.close()

    asyncio.run(serve())
    return 0


async def _stop_when_idle(worker: Worker) -> None:
    """Stops ``worker`` once its queues have nothing ready, scheduled,
    retrying, waiting for parents or for a flow key, no outbox entry is
    left, nothing is leased to it and no job runs, twice in a row (a
    fetch in flight leases jobs before the worker holds them)."""
    idle_rounds = 0
    while idle_rounds < 2:
        await asyncio.sleep(0.1)
        counts = await run_async(worker.redis, [
            command for keys in worker.queues for command in (
                Command("LLEN", keys.ready), Command("ZCARD", keys.priority),
                Command("ZCARD", keys.scheduled), Command("ZCARD", keys.retry),
                Command("ZCARD", keys.waiting), Command("ZCARD", keys.releases),
                Command("GET", f"{keys.base}:gwaiting"),
                Command("HLEN", keys.active(worker.id)))])
        idle = not any(c not in (None, b"0") and c != 0 for c in counts) \
            and worker.busy == 0 and not worker._outcomes
        idle_rounds = idle_rounds + 1 if idle else 0
    worker.stop()


