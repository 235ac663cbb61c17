#!/usr/bin/env python3
"""Enqueue a jobqueue job from Python, for a Rust worker to run.

Implements the enqueue contract of docs/protocol.md with the `redis` package
(pip install redis):

  * a job that runs now, priority 0: RPUSH the record on the ready list, and
    PUBLISH "r" on the queue's events channel when the list was empty;
  * a job with a priority or a delay: the same Lua scripts the Rust client
    calls (enqueue_priority.lua, schedule.lua, each prefixed with the includes
    the Rust registry (jobqueue-core/src/store/scripts.rs) gives them: lib,
    keys, records, new_jobs, flow and tags),
    read from jobqueue-core/src/lua.

Run (from the repository root, a Redis 7+ at JOBQUEUE_REDIS_URL):

  python3 examples/interop/enqueue.py --type send_welcome_email \\
      --payload '{"user_id": 7, "email": "ada@example.com"}'

Prints the job id. Options: --queue, --prefix (default: JOBQUEUE_PREFIX or
"jq"), --delay-ms, --priority, --max-attempts, --timeout-ms, --version.
"""

import argparse
import json
import os
import re
import secrets
import sys
import time
import uuid
from pathlib import Path

import redis

SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "jobqueue-core" / "src" / "lua"
NAME_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


def uuid7() -> uuid.UUID:
    """A UUID version 7: 48 bits of Unix time in ms, then random bits."""
    ms = time.time_ns() // 1_000_000
    value = (ms & ((1 << 48) - 1)) << 80
    value |= secrets.randbits(80)
    value &= ~(0xF << 76)
    value |= 0x7 << 76  # version 7
    value &= ~(0x3 << 62)
    value |= 0x2 << 62  # RFC 4122 variant
    return uuid.UUID(int=value)


def encode_record(job_id, job_type, payload, max_attempts=None, priority=0,
                  timeout_ms=None, version=0) -> bytes:
    """`<envelope JSON>\\n<payload JSON>`, envelope members in protocol order.

    Compact JSON (no spaces), `id` first and `type` second: the scripts read
    the id at a fixed offset and edit the envelope as text. Members holding
    their default are left out.
    """
    envelope = {"id": str(job_id), "type": job_type}
    if max_attempts is not None:
        envelope["max_attempts"] = max_attempts
    if priority:
        envelope["priority"] = priority
    if timeout_ms is not None:
        envelope["timeout_ms"] = timeout_ms
    if version:
        envelope["version"] = version
    compact = {"separators": (",", ":"), "ensure_ascii": True}
    # json.dumps never writes a raw newline, so the first one ends the envelope.
    return (json.dumps(envelope, **compact) + "\n" + json.dumps(payload, **compact)).encode()


def load_script(client, name):
    """A registered script as the Rust registry loads it: both scripts used
    here place new jobs that may carry tags, so they are `lua!(tags ...)` in
    scripts.rs: include/lib.lua, keys.lua, records.lua, new_jobs.lua,
    flow.lua and tags.lua, then the transition (docs/protocol.md lists
    every script's includes)."""
    includes = ("lib", "keys", "records", "new_jobs", "flow", "tags")
    source = "".join(
        (SCRIPTS_DIR / part).read_text()
        for part in [f"include/{include}.lua" for include in includes] + [f"{name}.lua"]
    )
    return client.register_script(source)  # EVALSHA, loading it when missing


def enqueue(client, prefix, queue, record, delay_ms=0, priority=0):
    """Sends one record; returns nothing, raises on a Redis error."""
    base = f"{prefix}:{{{queue}}}"  # every key of a queue shares the {queue} hash tag
    ready, events = f"{base}:ready", f"{base}:events"
    client.sadd(f"{prefix}:queues", queue)  # so the dashboard and CLI list the queue
    if delay_ms > 0:
        schedule = load_script(client, "schedule")
        keys = [f"{base}:scheduled", f"{base}:jobs", ready, f"{base}:priority"]
        schedule(keys=keys, args=[events, record, "in", delay_ms])
    elif priority != 0:
        enqueue_priority = load_script(client, "enqueue_priority")
        enqueue_priority(keys=[ready, f"{base}:priority"], args=[events, record])
    else:
        if client.rpush(ready, record) == 1:
            # The list was empty: idle workers wait for this wake-up.
            client.publish(events, "r")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("JOBQUEUE_REDIS_URL", "redis://127.0.0.1:6379"))
    parser.add_argument("--prefix", default=os.environ.get("JOBQUEUE_PREFIX") or "jq")
    parser.add_argument("--queue", default="default")
    parser.add_argument("--type", required=True, dest="job_type")
    parser.add_argument("--payload", required=True, help="the job's fields as JSON")
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--priority", type=int, default=0, help="-100..100, higher first")
    parser.add_argument("--max-attempts", type=int)
    parser.add_argument("--timeout-ms", type=int)
    parser.add_argument("--version", type=int, default=0, help="payload version (Job::VERSION)")
    args = parser.parse_args(argv)

    for what, name in (("queue", args.queue), ("job type", args.job_type)):
        if not NAME_RE.match(name):
            parser.error(f"{what} {name!r} must be 1-128 characters of A-Z a-z 0-9 _ - . :")
    if not -100 <= args.priority <= 100:
        parser.error("priority must be within -100..100")
    if args.delay_ms < 0:
        parser.error("delay must not be negative")
    try:
        payload = json.loads(args.payload)
    except json.JSONDecodeError as err:
        parser.error(f"payload is not JSON: {err}")

    job_id = uuid7()
    record = encode_record(job_id, args.job_type, payload, args.max_attempts,
                           args.priority, args.timeout_ms, args.version)
    client = redis.Redis.from_url(args.url)
    enqueue(client, args.prefix, args.queue, record, args.delay_ms, args.priority)
    print(job_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
