"""The Python implementation's conformance adapter (conformance/ADAPTER.md).

    python3 adapter.py worker --url URL --prefix P --queues q1,q2 --concurrency N
                              [--lease-ms MS] [--shutdown-grace-ms MS] [--language-tag NAME]
    python3 adapter.py produce --url URL --prefix P

``worker`` runs ``jobqueue_client.Worker`` with the conformance handlers and
prints the ready line once the worker is registered; ``produce`` answers one
JSON request per stdin line with ``jobqueue_client.Client``. Options and
operations the client does not have are answered ``unsupported``.

``JOBQUEUE_CONFORMANCE_BREAK=error_history`` (honoured only by the suite's
own test of itself) makes the worker drop the error history it must write:
a deliberate protocol break the suite has to catch.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import redis
import redis.asyncio

import jobqueue_client.worker as worker_module
from jobqueue_client import Backoff, Client, EnqueueError, Job, JobContext, PermanentError, Worker
from jobqueue_client.keys import InvalidName, QueueKeys

#: Exit code of ``conformance.crash``.
CRASH_EXIT_CODE = 3
#: The deliberate break the suite's self-test asks for (see the module docs).
BREAK_ENV = "JOBQUEUE_CONFORMANCE_BREAK"

#: ADAPTER.md options given to ``Job`` under another name, in seconds
#: where the client takes a delay. An option whose ``Job`` field the
#: installed client does not have is answered ``unsupported``: the adapter
#: uses each feature as soon as the client has it.
OPTION_FIELDS: Dict[str, Tuple[str, Callable[[Any], Any]]] = {
    "unique_for_ms": ("unique_for", lambda ms: ms / 1000),
    "unique_key": ("unique_key", lambda key: key),
    "idempotency_key": ("idempotency_key", lambda key: key),
    "idempotency_window_ms": ("idempotency_window", lambda ms: ms / 1000),
    "flow_key": ("flow_key", lambda key: key),
    "expires_in_ms": ("expires_in", lambda ms: ms / 1000),
}
#: The fields of the installed client's ``Job``.
JOB_FIELDS = {f.name for f in dataclasses.fields(Job)}
#: Outcomes of ``Client.enqueue_outcomes`` that mean another job stands for this one.
DUPLICATE_OUTCOMES = ("duplicate", "debounced")

log = logging.getLogger("conformance.adapter")


# -- worker ----------------------------------------------------------------


class Handlers:
    """The conformance handlers of ADAPTER.md, with their own Redis connection."""

    def __init__(self, url: str, language: str) -> None:
        self.redis = redis.asyncio.Redis.from_url(url)
        self.language = language

    async def record_run(self, payload: Any, ctx: JobContext) -> None:
        key = payload.get("key") if isinstance(payload, dict) else None
        if isinstance(key, str):
            entry = {"id": ctx.id, "attempt": ctx.attempt, "language": self.language,
                     "at_ms": int(time.time() * 1000)}
            await self.redis.rpush(key, json.dumps(entry))

    async def echo(self, payload: Any, ctx: JobContext) -> Any:
        return payload

    async def record(self, payload: Any, ctx: JobContext) -> None:
        await self.record_run(payload, ctx)

    async def fail(self, payload: Any, ctx: JobContext) -> Any:
        succeed_on = payload.get("succeed_on_attempt") if isinstance(payload, dict) else None
        if isinstance(succeed_on, int) and ctx.attempt >= succeed_on:
            return {"attempt": ctx.attempt}
        raise RuntimeError(_message(payload))

    async def permanent(self, payload: Any, ctx: JobContext) -> None:
        raise PermanentError(_message(payload))

    async def sleep(self, payload: Any, ctx: JobContext) -> Any:
        await self.record_run(payload, ctx)
        ms = payload.get("ms", 0) if isinstance(payload, dict) else 0
        await asyncio.sleep(ms / 1000)
        return {"slept": ms}

    async def crash(self, payload: Any, ctx: JobContext) -> None:
        await self.record_run(payload, ctx)
        log.warning("conformance.crash: ending the process now")
        os._exit(CRASH_EXIT_CODE)

    def register(self, worker: Worker) -> None:
        worker.register("conformance.echo", self.echo)
        worker.register("conformance.record", self.record)
        worker.register("conformance.fail", self.fail)
        worker.register("conformance.permanent", self.permanent)
        worker.register("conformance.sleep", self.sleep)
        worker.register("conformance.crash", self.crash)


def _message(payload: Any) -> str:
    message = payload.get("message") if isinstance(payload, dict) else None
    return message if isinstance(message, str) else "conformance failure"


def apply_break() -> None:
    """Applies the deliberate protocol break named by ``JOBQUEUE_CONFORMANCE_BREAK``."""
    broken = os.environ.get(BREAK_ENV, "")
    if broken == "error_history":
        log.warning("%s=error_history: failed attempts are recorded WITHOUT their error entry",
                    BREAK_ENV)
        worker_module.push_error = lambda envelope, entry: None  # type: ignore[assignment]
    elif broken:
        raise SystemExit(f"unknown {BREAK_ENV} value {broken!r}")


async def run_worker(args: argparse.Namespace) -> int:
    apply_break()
    client = redis.asyncio.Redis.from_url(args.url)
    lease_ms = args.lease_ms or 30_000
    worker = Worker(client, [q for q in args.queues.split(",") if q], prefix=args.prefix,
                    concurrency=args.concurrency, lease_ms=lease_ms,
                    reap_interval_s=lease_ms / 6000,
                    shutdown_grace_s=(args.shutdown_grace_ms / 1000
                                      if args.shutdown_grace_ms is not None else 25.0))
    handlers = Handlers(args.url, args.language_tag)
    handlers.register(worker)
    running = asyncio.create_task(worker.run())
    info_key = f"{args.prefix}:worker:{worker.id}"
    # Ready once the worker published itself (its first heartbeat, before fetching).
    while not running.done() and not await client.exists(info_key):
        await asyncio.sleep(0.02)
    if not running.done():
        print(json.dumps({"ready": True, "worker_id": worker.id, "language": args.language_tag}),
              flush=True)
    await running
    return 0


# -- producer --------------------------------------------------------------


class Refused(Exception):
    """A request answered with ``{"ok": false}``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def make_job(queue: str, spec: Dict[str, Any]) -> Job:
    options = spec.get("options") or {}
    extra: Dict[str, Any] = {}
    missing: List[str] = []
    for name, (field, convert) in OPTION_FIELDS.items():
        if options.get(name) is None:
            continue
        if field in JOB_FIELDS:
            extra[field] = convert(options[name])
        else:
            missing.append(name)
    if missing:
        raise Refused("unsupported", "the Python client has no " + ", ".join(missing))
    backoff: Optional[Backoff] = None
    if "backoff" in options:
        policy = options["backoff"]
        if "fixed_ms" in policy:
            backoff = Backoff.fixed(int(policy["fixed_ms"]))
        else:
            exp = policy["exponential"]
            backoff = Backoff.exponential(int(exp["base_ms"]), float(exp["factor"]),
                                          int(exp["max_ms"]), 0.0)
    delay_ms = options.get("delay_ms")
    return Job(spec["type"], spec.get("payload"), queue=queue,
               delay=delay_ms / 1000 if delay_ms else None,
               priority=int(options.get("priority", 0)),
               tags=tuple(options.get("tags") or ()),
               max_attempts=options.get("max_attempts"),
               timeout_ms=options.get("timeout_ms"),
               backoff=backoff,
               version=int(options.get("version", 0)),
               id=options.get("id"),
               track=bool(options.get("track", False)),
               **extra)


def enqueue_one(client: Client, job: Job) -> Dict[str, Any]:
    """One job; a unique job's duplicate answers with the holder's id."""
    enqueue_outcomes = getattr(client, "enqueue_outcomes", None)
    if enqueue_outcomes is None:  # a client without unique jobs: ids only
        return {"ok": True, "id": client.enqueue_many([job])[0]}
    (outcome,) = enqueue_outcomes([job])
    if isinstance(outcome, Exception):
        raise outcome
    reply: Dict[str, Any] = {"ok": True, "id": outcome.id}
    if outcome.status in DUPLICATE_OUTCOMES:
        reply["duplicate"] = True
    return reply


def status(client: Client, queue: str, job_id: str) -> Any:
    """The tracked-job status as Rust's ``Client::status`` reads it: the
    client's ``status`` when it has one, else the hash read directly (plain
    Redis, docs/protocol.md)."""
    read = getattr(client, "status", None)
    if read is not None:
        found = read(job_id, queue)
        if found is None:
            return None
        return {"state": found.state, "result": found.result, "error": found.error}
    fields = {k.decode(): v.decode() for k, v in
              client.redis.hgetall(QueueKeys(client.prefix, queue).status(job_id)).items()}
    if "state" not in fields:
        return None
    state = fields["state"]
    due = fields.get("due")
    if state == "scheduled" and due is not None and int(due) <= time.time() * 1000:
        state = "queued"
    result = json.loads(fields["result"]) if "result" in fields else None
    return {"state": state, "result": result, "error": fields.get("error")}


def answer(client: Client, request: Dict[str, Any]) -> Dict[str, Any]:
    op = request.get("op")
    queue = request.get("queue", "default")
    if op == "enqueue":
        return enqueue_one(client, make_job(queue, request))
    if op == "enqueue_many":
        return {"ok": True, "ids": client.enqueue_many([make_job(queue, j) for j in request["jobs"]])}
    if op == "chain":
        chain = getattr(client, "chain", None)
        if chain is None:
            raise Refused("unsupported", "the Python client has no chains (after / dependents)")
        return {"ok": True, "ids": chain([make_job(queue, j) for j in request["jobs"]])}
    if op == "status":
        return {"ok": True, "status": status(client, queue, request["id"])}
    raise Refused("invalid", f"unknown op {op!r}")


def _error_kind(err: Exception) -> str:
    """``duplicate`` for a conflict with another job (the client's
    ``JobConflict``, or an older client's "held by another job"), else ``invalid``."""
    conflict = any(cls.__name__ == "JobConflict" for cls in type(err).__mro__)
    return "duplicate" if conflict or "held by another job" in str(err) else "invalid"


def run_producer(args: argparse.Namespace) -> int:
    client = Client(redis.Redis.from_url(args.url), prefix=args.prefix)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = answer(client, json.loads(line))
        except Refused as err:
            reply = {"ok": False, "error": err.kind, "message": str(err)}
        except (EnqueueError, InvalidName, ValueError, KeyError, TypeError) as err:
            reply = {"ok": False, "error": _error_kind(err),
                     "message": f"{type(err).__name__}: {err}"}
        except redis.RedisError as err:
            reply = {"ok": False, "error": "redis", "message": str(err)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    client.close()
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="jobqueue conformance adapter (Python)")
    modes = parser.add_subparsers(dest="mode", required=True)
    worker = modes.add_parser("worker")
    worker.add_argument("--url", required=True)
    worker.add_argument("--prefix", required=True)
    worker.add_argument("--queues", required=True)
    worker.add_argument("--concurrency", type=int, default=10)
    worker.add_argument("--lease-ms", type=int)
    worker.add_argument("--shutdown-grace-ms", type=int)
    worker.add_argument("--language-tag", default="python")
    produce = modes.add_parser("produce")
    produce.add_argument("--url", required=True)
    produce.add_argument("--prefix", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("JOBQUEUE_LOG", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.mode == "worker":
        return asyncio.run(run_worker(args))
    return run_producer(args)


if __name__ == "__main__":
    sys.exit(main())
