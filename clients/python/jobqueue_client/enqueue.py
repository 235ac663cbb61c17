"""Enqueueing: the producer contract of docs/protocol.md as a sequence of
round trips, shared by the sync and asyncio clients (which only send the
commands each step yields; see :func:`enqueue_steps`).

Jobs are grouped per queue into as few commands as their kinds allow, in
one pipelined round trip: a bare ``RPUSH`` (ready now, priority 0, no
tags or flow key), ``enqueue_priority.lua`` (priority, tags or a flow key),
``schedule.lua`` (delayed), ``enqueue_with_id.lua`` (a given id),
``enqueue_unique.lua`` (unique jobs) and ``enqueue_idempotent.lua``
(idempotency keys); ``parent_open.lua`` goes before a job enqueued with
dependents. Jobs with parents follow one by one (chains.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import AbstractSet, Any, Callable, Dict, Generator, List, Optional, Sequence, Tuple, Union

from redis.exceptions import ResponseError

from .chains import refused_id, waiting_steps
from .commands import Command
from .keys import QueueKeys
from .producer import (DuplicateId, EnqueueError, EnqueueOutcome, IdempotencyConflict, Job,
                       PreparedJob, delay_ms, prepare)
from .scripts import Scripts

#: Most records in one script call or RPUSH (as the Rust client).
MAX_RECORDS_PER_CALL = 1000
#: Most jobs of one enqueue_with_id / enqueue_unique / enqueue_idempotent call (as Rust).
MAX_IDS_PER_CALL = 200
#: How long a producer-given id is remembered (Rust: 1 h by default), ms.
DEFAULT_ID_WINDOW_MS = 3_600_000
#: A tracked job's status TTL while it waits (Rust: PENDING_STATUS_TTL), ms.
PENDING_STATUS_TTL_MS = 7 * 24 * 3600 * 1000

Result = Union[EnqueueOutcome, EnqueueError]
#: A step generator: yields the commands of one round trip, is sent their replies.
Steps = Generator[List[Command], List[Any], List[Result]]
#: Reads one call's reply into the outcomes of its jobs (by job index).
Reader = Callable[[Any], List[Tuple[int, Result]]]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class Plan:
    """The first round trip of an enqueue: its commands and how to read them."""

    commands: List[Command] = field(default_factory=list)
    # index of each RPUSH command → (records pushed, events channel): publish `r`
    # when the reply equals the count (the list was empty)
    pushes: Dict[int, Tuple[int, str]] = field(default_factory=dict)
    readers: Dict[int, Reader] = field(default_factory=dict)

    def read(self, results: List[Any], outcomes: List[Optional[Result]]) -> List[Command]:
        """Fills ``outcomes`` from the replies; returns the wake-ups to publish."""
        for index, reader in self.readers.items():
            for job_index, outcome in reader(results[index]):
                outcomes[job_index] = outcome
        return [Command("PUBLISH", channel, "r")
                for index, (count, channel) in self.pushes.items() if results[index] == count]


def enqueue_steps(prefix: str, scripts: Scripts, jobs: Sequence[Job], id_window_ms: int,
                  listed: AbstractSet[str]) -> Steps:
    """The round trips that enqueue ``jobs``; returns each job's outcome or
    refusal, in order. Every job is checked before anything is sent
    (:class:`InvalidJob` raised). ``listed`` names queues this producer
    already added to ``P:queues``."""
    prepared = [prepare(job) for job in jobs]
    _refuse_repeated_ids(prepared)
    outcomes: List[Optional[Result]] = [None] * len(prepared)
    plan = Plan()
    unlisted = list(dict.fromkeys(p.job.queue for p in prepared if p.job.queue not in listed))
    if unlisted:
        plan.commands.append(Command("SADD", f"{prefix}:queues", *unlisted))
    plan.commands += _initial_statuses(prefix, prepared)
    waiting: List[int] = []
    by_queue: Dict[str, List[int]] = {}
    for index, job in enumerate(prepared):
        if job.job.after:
            waiting.append(index)
        else:
            by_queue.setdefault(job.job.queue, []).append(index)
    for queue, indices in by_queue.items():
        _plan_queue(plan, scripts, QueueKeys(prefix, queue), prepared, indices, id_window_ms)
    if plan.commands:
        try:
            replies = yield plan.commands
        except ResponseError as err:  # schedule.lua refuses an id a stored job holds
            refusal = refused_id(err)
            if refusal is None:
                raise
            raise refusal from err
        wake_ups = plan.read(replies, outcomes)
        if wake_ups:
            yield wake_ups
    for index in waiting:
        try:
            outcomes[index] = yield from waiting_steps(prefix, scripts, prepared[index], id_window_ms)
        except EnqueueError as err:
            outcomes[index] = err
    results = [outcome or EnqueueOutcome("enqueued", job.id)
               for job, outcome in zip(prepared, outcomes)]
    unused = [Command("DEL", QueueKeys(prefix, job.job.queue).status(job.id))
              for job, outcome in zip(prepared, results) if job.job.track
              and isinstance(outcome, EnqueueOutcome) and outcome.id != job.id]
    if unused:
        yield unused
    return results


def _refuse_repeated_ids(jobs: List[PreparedJob]) -> None:
    """Two jobs of one call under one id (a given id repeated goes through
    its marker; generated ids never repeat)."""
    seen: Dict[Tuple[str, str], bool] = {}
    for job in jobs:
        key = (job.job.queue, job.id)
        if key in seen and not (job.given_id and seen[key]):
            raise DuplicateId(f"job id {job.id} appears twice in one enqueue", job.id)
        seen[key] = job.given_id


def _plan_queue(plan: Plan, scripts: Scripts, keys: QueueKeys, jobs: List[PreparedJob],
                indices: List[int], id_window_ms: int) -> None:
    """The commands of one queue's jobs (without parents), in the order of
    their kinds: plain, prioritised, scheduled, given ids, unique, keyed."""
    plain: List[bytes] = []
    scripted: List[bytes] = []
    scheduled: List[Any] = []
    given: List[int] = []
    unique: List[int] = []
    keyed: List[int] = []
    for index in indices:
        job = jobs[index]
        when, ms = job.when
        if job.job.dependents:
            plan.commands.append(Command.evalsha(
                scripts["parent_open"], [keys.parent(job.id)], [_delay_until(when, ms)]))
        if job.job.is_unique:
            unique.append(index)
        elif job.job.idempotency_key is not None:
            keyed.append(index)
        elif job.given_id:
            given.append(index)
        elif when != "now":
            scheduled += [job.record, when, ms]
        elif job.job.priority or job.job.tags or job.job.flow_key is not None:
            scripted.append(job.record)
        else:
            plain.append(job.record)
    for records in _chunks(plain, MAX_RECORDS_PER_CALL):
        plan.pushes[len(plan.commands)] = (len(records), keys.events)
        plan.commands.append(Command("RPUSH", keys.ready, *records))
    for records in _chunks(scripted, MAX_RECORDS_PER_CALL):
        plan.commands.append(Command.evalsha(scripts["enqueue_priority"], [keys.ready, keys.priority],
                                             [keys.events, *records]))
    for triples in _chunks(scheduled, 3 * MAX_RECORDS_PER_CALL):
        plan.commands.append(Command.evalsha(
            scripts["schedule"], [keys.scheduled, keys.jobs, keys.ready, keys.priority],
            [keys.events, *triples]))
    for chunk in _chunks(given, MAX_IDS_PER_CALL):
        plan.readers[len(plan.commands)] = _pairs_reader(chunk, keys.queue)
        plan.commands.append(Command.evalsha(
            scripts["enqueue_with_id"],
            [keys.ready, keys.priority, keys.scheduled, keys.jobs,
             *(keys.id_marker(jobs[i].id) for i in chunk)],
            [keys.events, id_window_ms, *(a for i in chunk for a in (jobs[i].record, *jobs[i].when))]))
    for chunk in _chunks(unique, MAX_IDS_PER_CALL):
        plan.readers[len(plan.commands)] = _unique_reader(chunk)
        plan.commands.append(Command.evalsha(
            scripts["enqueue_unique"],
            [keys.scheduled, keys.retry, keys.jobs, keys.ready, keys.priority,
             *(keys.unique(jobs[i].unique_digest()) for i in chunk)],
            [keys.events, *(a for i in chunk for a in (
                jobs[i].job.on_duplicate or "reject", jobs[i].job.unique_ttl_ms(),
                jobs[i].record, *jobs[i].when))]))
    for chunk in _chunks(keyed, MAX_IDS_PER_CALL):
        plan.readers[len(plan.commands)] = _pairs_reader(chunk, keys.queue)
        plan.commands.append(Command.evalsha(
            scripts["enqueue_idempotent"],
            [keys.ready, keys.priority, keys.scheduled, keys.jobs,
             *(k for i in chunk for k in (keys.idempotency_key(jobs[i].idempotency_key_digest()),
                                          keys.id_marker(jobs[i].id)))],
            [keys.events, id_window_ms, *(a for i in chunk for a in _keyed_args(jobs[i]))]))


def _keyed_args(job: PreparedJob) -> List[Any]:
    """The six arguments of one job of enqueue_idempotent.lua."""
    window = delay_ms(job.job.idempotency_window or 0, "idempotency_window")
    return [job.record, *job.when, window, job.content_digest(),
            "given" if job.given_id else "generated"]


def _pairs_reader(indices: List[int], queue: str) -> Reader:
    """Reads ``<status> <id>`` per job (enqueue_with_id.lua, enqueue_idempotent.lua)."""
    def read(reply: Any) -> List[Tuple[int, Result]]:
        found: List[Tuple[int, Result]] = []
        for n, index in enumerate(indices):
            status, job_id = _text(reply[2 * n]), _text(reply[2 * n + 1])
            found.append((index, _pair_outcome(status, job_id, queue)))
        return found
    return read


def _pair_outcome(status: str, job_id: str, queue: str) -> Result:
    if status in ("enqueued", "exists"):
        return EnqueueOutcome(status, job_id)
    if status == "conflict":
        return IdempotencyConflict(f"the idempotency key is held by job {job_id} on queue {queue}, "
                                   "of another type or payload", job_id)
    if status == "taken":
        return DuplicateId(f"job id {job_id} is held by another job on queue {queue}", job_id)
    return EnqueueError(f"unexpected reply {status!r} for job {job_id}")


def _unique_reader(indices: List[int]) -> Reader:
    """Reads ``<status> <id> <replaced or ''>`` per job (enqueue_unique.lua)."""
    def read(reply: Any) -> List[Tuple[int, Result]]:
        found: List[Tuple[int, Result]] = []
        for n, index in enumerate(indices):
            status, job_id, replaced = (_text(v) for v in reply[3 * n:3 * n + 3])
            found.append((index, EnqueueOutcome(status, job_id, replaced or None)))
        return found
    return read


def _delay_until(when: str, ms: int) -> int:
    """Milliseconds until a job runs (0: now), on this process's clock."""
    if when == "in":
        return ms
    if when == "at":
        return max(0, ms - time.time_ns() // 1_000_000)
    return 0


def _initial_statuses(prefix: str, jobs: List[PreparedJob]) -> List[Command]:
    """Tracked jobs' first status, sent before their records (docs/protocol.md,
    "A tracked job"): only where no status exists under the id yet."""
    commands: List[Command] = []
    now_ms = time.time_ns() // 1_000_000
    for job in jobs:
        if not job.job.track:
            continue
        key = QueueKeys(prefix, job.job.queue).status(job.id)
        delay = _delay_until(*job.when)
        if job.job.after:
            fields: List[Any] = ["state", "waiting"]
        elif delay > 0:
            fields = ["state", "scheduled", "due", now_ms + delay]
        else:
            fields = ["state", "queued"]
        for name, value in zip(fields[0::2], fields[1::2]):
            commands.append(Command("HSETNX", key, name, value))
        commands += [Command("HSETNX", key, "updated_at", now_ms),
                     Command("PEXPIRE", key, PENDING_STATUS_TTL_MS + delay, "NX")]
    return commands


def _chunks(items: List[Any], size: int) -> List[List[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
