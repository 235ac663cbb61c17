#!/usr/bin/env python3
"""The same workloads on Celery 5 with its Redis broker, for comparison.

  python3 -m venv /tmp/celeryvenv && /tmp/celeryvenv/bin/pip install 'celery[redis]'
  /tmp/celeryvenv/bin/python clients/python/bench/celery_bench.py w1 --url redis://127.0.0.1:6491

Same payload, concurrency and sizes as bench.py. The worker runs in a
process of its own (``celery worker``, thread pool of ``--concurrency``
threads: one process, like the asyncio worker it is compared with) with
late acknowledgement (``task_acks_late``: a task is acknowledged after it
ran and comes back if its worker dies, the closest Celery gets to a
lease) and no result backend (jobqueue drops acknowledged jobs too).
Celery has no bulk enqueue: ``w2_bulk`` says so and measures nothing;
``w1`` pre-enqueues its jobs one ``apply_async`` at a time. The drain is
timed from the first task start to the last task end, as the worker's
``task_prerun`` / ``task_postrun`` signals see them (two Redis writes per
run, not per task).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import celery
import redis
from celery import Celery
from celery.signals import task_postrun, task_prerun

URL = os.environ.get("CELERY_BENCH_URL", "redis://127.0.0.1:6379")
QUEUE = os.environ.get("CELERY_BENCH_QUEUE", "celerybench")
EXPECTED = int(os.environ.get("CELERY_BENCH_N", "0"))

app = Celery("celery_bench", broker=URL)
app.conf.update(task_acks_late=True, task_ignore_result=True, task_default_queue=QUEUE,
                worker_prefetch_multiplier=4, broker_connection_retry_on_startup=True,
                worker_hijack_root_logger=False, worker_send_task_events=False)


@app.task(name="noop")
def noop(payload: dict) -> None:
    """The no-op job."""


class _Marks:
    """First start and last end, written to Redis once each (in the worker)."""

    lock = threading.Lock()
    ended = 0
    conn: "redis.Redis | None" = None

    @classmethod
    def write(cls, name: str) -> None:
        if cls.conn is None:
            cls.conn = redis.Redis.from_url(URL)
        cls.conn.set(f"{QUEUE}:{name}", repr(time.time()), nx=True)


@task_prerun.connect
def _started(**_: object) -> None:
    if _Marks.ended == 0:
        _Marks.write("first")


@task_postrun.connect
def _ended(**_: object) -> None:
    with _Marks.lock:
        _Marks.ended += 1
        last = _Marks.ended == EXPECTED
    if last:
        _Marks.write("end")


def payload(i: int) -> dict:
    return {"user_id": i, "email": f"user{i}@example.com", "action": "welcome",
            "pad": "xxxxxxxxxxxxxxxxxxxxxxxx"}


def enqueue(n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        noop.apply_async((payload(i),))
    return time.perf_counter() - start


def drain(n: int, concurrency: int) -> dict:
    conn = redis.Redis.from_url(URL)
    env = dict(os.environ, CELERY_BENCH_URL=URL, CELERY_BENCH_QUEUE=QUEUE, CELERY_BENCH_N=str(n))
    boot = time.time()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_bench", "worker", "--pool", "threads",
         "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-Q", QUEUE],
        cwd=Path(__file__).resolve().parent, env=env, stdout=subprocess.DEVNULL)
    try:
        while conn.get(f"{QUEUE}:end") is None:
            if worker.poll() is not None:
                raise RuntimeError(f"the Celery worker exited with {worker.returncode}")
            time.sleep(0.05)
    finally:
        worker.terminate()
        worker.wait(60)
    first, end = float(conn.get(f"{QUEUE}:first") or 0), float(conn.get(f"{QUEUE}:end") or 0)
    return {"n": n, "c": concurrency, "jobs_per_s": round(n / (end - first)),
            "drain_s": round(end - first, 3), "boot_s": round(first - boot, 3), "processed": n,
            "pool": "threads", "acks_late": True}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=["w1", "w2_single", "w2_bulk"])
    parser.add_argument("--url", default="redis://127.0.0.1:6379")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    global URL, QUEUE
    URL, QUEUE = args.url, f"celerybench-{secrets.token_hex(4)}"
    app.conf.update(broker_url=URL, task_default_queue=QUEUE)
    result: dict = {"system": "celery", "version": celery.__version__, "workload": args.workload}
    try:
        if args.workload == "w2_single":
            n = args.jobs or 20_000
            seconds = enqueue(n)
            result.update({"n": n, "ops_per_s": round(n / seconds), "seconds": round(seconds, 3)})
        elif args.workload == "w2_bulk":
            result.update({"n": 0, "jobs_per_s": None, "note": "Celery has no bulk enqueue API"})
        else:
            n = args.jobs or 50_000
            result["bulk_enqueue_s"] = round(enqueue(n), 3)
            result["bulk_enqueue_note"] = "one apply_async per job: no bulk API"
            result.update(drain(n, args.concurrency))
    finally:
        conn = redis.Redis.from_url(URL)
        keys = list(conn.scan_iter(match=f"*{QUEUE}*", count=1000))
        if keys:
            conn.delete(*keys)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
