"""Enqueueing: the producer contract of docs/protocol.md, for the sync and
asyncio clients (which share everything here but the I/O)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import AbstractSet, Any, Dict, List, Optional, Sequence, Tuple, Union

from .commands import Command
from .keys import QueueKeys, check_name
from .record import Backoff, encode_record, to_json, uuid7
from .scripts import Scripts

#: Most records in one script call or RPUSH (as the Rust client).
MAX_RECORDS_PER_CALL = 1000
#: Most jobs of one enqueue_with_id.lua call (as the Rust client).
MAX_IDS_PER_CALL = 200
#: How long a producer-given id is remembered (Rust: 1 h by default), ms.
DEFAULT_ID_WINDOW_MS = 3_600_000
MAX_TAGS = 8


Delay = Union[float, int, dt.timedelta]


class EnqueueError(Exception):
    """A job was refused: invalid options, or its given id is held by another job."""


@dataclass
class Job:
    """One job to enqueue. ``payload`` is what serde sees: any JSON value
    (a dict for a Rust struct). ``delay`` (seconds or a timedelta) or
    ``run_at`` (an aware datetime) schedules it; ``id`` makes the enqueue
    idempotent for an hour (enqueue_with_id.lua)."""

    job_type: str
    payload: Any = None
    queue: str = "default"
    delay: Optional[Delay] = None
    run_at: Optional[dt.datetime] = None
    priority: int = 0
    tags: Sequence[str] = field(default_factory=tuple)
    max_attempts: Optional[int] = None
    timeout_ms: Optional[int] = None
    backoff: Optional[Backoff] = None
    version: int = 0
    id: Optional[str] = None
    track: bool = False

    def envelope(self, job_id: str) -> Dict[str, Any]:
        """The envelope, members holding their default left out."""
        envelope: Dict[str, Any] = {"id": job_id, "type": self.job_type}
        if self.max_attempts is not None:
            envelope["max_attempts"] = self.max_attempts
        if self.priority:
            envelope["priority"] = self.priority
        if self.timeout_ms is not None:
            envelope["timeout_ms"] = self.timeout_ms
        if self.backoff is not None:
            envelope["backoff"] = self.backoff.to_json()
        if self.version:
            envelope["version"] = self.version
        if self.track:
            envelope["track"] = True
        if self.tags:
            envelope["tags"] = list(dict.fromkeys(self.tags))
        return envelope

    def when(self) -> Tuple[str, int]:
        """``("now", 0)``, ``("in", delay ms)`` or ``("at", epoch ms)``."""
        if self.run_at is not None:
            if self.run_at.tzinfo is None:
                raise EnqueueError("run_at must be an aware datetime (give it a tzinfo)")
            return "at", int(self.run_at.timestamp() * 1000)
        if self.delay is not None:
            seconds = self.delay.total_seconds() if isinstance(self.delay, dt.timedelta) else float(self.delay)
            if seconds < 0:
                raise EnqueueError("delay must not be negative")
            ms = int(seconds * 1000)
            if ms > 0:
                return "in", ms
        return "now", 0

    def check(self) -> None:
        """Raises :class:`EnqueueError` for options the protocol refuses."""
        try:
            check_name("job type", self.job_type)
            check_name("queue", self.queue)
        except ValueError as err:
            raise EnqueueError(str(err)) from err
        if not -100 <= self.priority <= 100:
            raise EnqueueError("priority must be within -100..100")
        tags = list(dict.fromkeys(self.tags))
        if len(tags) > MAX_TAGS:
            raise EnqueueError(f"at most {MAX_TAGS} distinct tags")
        for tag in tags:
            if not 1 <= len(tag.encode()) <= 64 or any(ord(c) < 32 or ord(c) == 127 for c in tag):
                raise EnqueueError(f"tag {tag!r} must be 1-64 bytes without control characters")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise EnqueueError("max_attempts must be at least 1")
        if self.id is not None and len(self.id) != 36:
            raise EnqueueError("a given id must be a hyphenated UUID (36 characters)")


@dataclass
class Plan:
    """The commands of one enqueue call, and how to read their replies."""

    ids: List[str]
    commands: List[Command]
    # index of each RPUSH command → records pushed (publish `r` when the reply equals it)
    pushes: Dict[int, Tuple[int, str]]
    # index of each enqueue_with_id call → its jobs' ids
    given: Dict[int, List[str]]
    # the queues the jobs went to
    queues: List[str] = field(default_factory=list)

    def follow_up(self, results: List[Any]) -> List[Command]:
        """The wake-ups to publish; raises when a given id was taken."""
        for index, ids in self.given.items():
            reply = results[index]
            for pos in range(0, len(reply), 2):
                status = _text(reply[pos])
                if status == "taken":
                    raise EnqueueError(f"job id {_text(reply[pos + 1])} is held by another job")
        return [Command("PUBLISH", channel, "r")
                for index, (count, channel) in self.pushes.items() if results[index] == count]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def plan(prefix: str, scripts: Scripts, jobs: Sequence[Job],
         id_window_ms: int = DEFAULT_ID_WINDOW_MS, listed: AbstractSet[str] = frozenset()) -> Plan:
    """Builds the commands that enqueue ``jobs``, in order per queue.
    ``listed`` names queues this producer already added to ``P:queues``."""
    ids: List[str] = []
    by_queue: Dict[str, List[Tuple[Job, str, bytes]]] = {}
    for job in jobs:
        job.check()
        job_id = job.id.lower() if job.id else uuid7()
        payload = to_json(job.payload).encode()
        record = encode_record(job.envelope(job_id), payload)
        ids.append(job_id)
        by_queue.setdefault(job.queue, []).append((job, job_id, record))
    unlisted = [queue for queue in by_queue if queue not in listed]
    commands: List[Command] = [Command("SADD", f"{prefix}:queues", *unlisted)] if unlisted else []
    result = Plan(ids, commands, {}, {}, list(by_queue))
    for queue, entries in by_queue.items():
        keys = QueueKeys(prefix, queue)
        plain: List[bytes] = []
        scripted: List[bytes] = []
        scheduled: List[Any] = []
        given: List[Tuple[str, List[Any]]] = []
        for job, job_id, record in entries:
            when, ms = job.when()
            if job.track:
                commands += _status_init(keys.status(job_id), when, ms)
            if job.id is not None:
                given.append((job_id, [record, when, ms]))
            elif when != "now":
                scheduled += [record, when, ms]
            elif job.priority or job.tags:
                scripted.append(record)
            else:
                plain.append(record)
        for chunk in _chunks(plain, MAX_RECORDS_PER_CALL):
            result.pushes[len(commands)] = (len(chunk), keys.events)
            commands.append(Command("RPUSH", keys.ready, *chunk))
        for chunk in _chunks(scripted, MAX_RECORDS_PER_CALL):
            commands.append(Command.evalsha(scripts["enqueue_priority"], [keys.ready, keys.priority],
                                            [keys.events, *chunk]))
        for chunk in _chunks(scheduled, 3 * MAX_RECORDS_PER_CALL):
            commands.append(Command.evalsha(
                scripts["schedule"], [keys.scheduled, keys.jobs, keys.ready, keys.priority],
                [keys.events, *chunk]))
        for chunk in _chunks(given, MAX_IDS_PER_CALL):
            result.given[len(commands)] = [job_id for job_id, _ in chunk]
            commands.append(Command.evalsha(
                scripts["enqueue_with_id"],
                [keys.ready, keys.priority, keys.scheduled, keys.jobs,
                 *(keys.id_marker(job_id) for job_id, _ in chunk)],
                [keys.events, id_window_ms, *(arg for _, args in chunk for arg in args)]))
    return result


#: A tracked job's status TTL while it waits (Rust: PENDING_STATUS_TTL), ms.
PENDING_STATUS_TTL_MS = 7 * 24 * 3600 * 1000


def _status_init(key: str, when: str, ms: int) -> List[Command]:
    """A tracked job's first status, sent before its record (docs/protocol.md,
    "A tracked job"): only where no status exists under its id yet."""
    now_ms = int(time.time() * 1000)
    delay = ms if when == "in" else max(0, ms - now_ms) if when == "at" else 0
    return [Command("HSETNX", key, "state", "queued" if when == "now" else "scheduled"),
            Command("HSETNX", key, "updated_at", now_ms),
            Command("PEXPIRE", key, PENDING_STATUS_TTL_MS + delay, "NX")]


def _chunks(items: List[Any], size: int) -> List[List[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
