"""Enqueueing a job that runs after its parents (``Job(after=[...])``), as
the Rust client does it (``jobqueue-core/src/client/after.rs``).

Two steps, because parents may live on other queues (other Redis Cluster
slots): ``link_child.lua`` on each parent's queue adds the job to the
parent's children and reads the parent's state (an unknown parent refuses
the job), then ``enqueue_waiting.lua`` on the job's queue puts it in the
waiting-for-parents place with those states and releases it at once when
nothing is left to wait for. A job that may itself get dependents (a link
in a chain) gets ``parent_open.lua`` before the second step.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Generator, List, Optional, Tuple

from redis.exceptions import ResponseError

from .commands import Command
from .keys import QueueKeys
from .producer import DuplicateId, EnqueueOutcome, PreparedJob, UnknownParent, distinct_parents
from .scripts import Scripts

_DUPLICATE_ID = re.compile(r"duplicate job id ([0-9a-f-]{36})")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def refused_id(err: ResponseError) -> Optional[DuplicateId]:
    """The :class:`DuplicateId` a script's ``duplicate job id <id>`` error means, if it is one."""
    found = _DUPLICATE_ID.search(str(err))
    return DuplicateId(str(err), found.group(1)) if found else None


def _unknown(parent_id: str) -> UnknownParent:
    return UnknownParent(f"parent {parent_id} is unknown: only a job enqueued with dependents=True "
                         "can be a parent, and only until 30 days after it finished")


def resolve_parents(prefix: str, job: PreparedJob) -> Generator[List[Command], List[Any],
                                                                List[Tuple[str, str]]]:
    """``(queue, id)`` of each parent: given, or the known queue that holds
    the parent's dependency record."""
    parents = distinct_parents(job.job.after)
    unknown = [parent_id for queue, parent_id in parents if queue is None]
    found: Dict[str, str] = {}
    if unknown:
        (members,) = yield [Command("SMEMBERS", f"{prefix}:queues")]
        queues = sorted(_text(m) for m in members)
        probes = [(parent_id, queue) for parent_id in unknown for queue in queues]
        hits = (yield [Command("EXISTS", QueueKeys(prefix, queue).parent(parent_id))
                       for parent_id, queue in probes]) if probes else []
        for (parent_id, queue), hit in zip(probes, hits):
            if hit:
                found.setdefault(parent_id, queue)
    resolved: List[Tuple[str, str]] = []
    for given, parent_id in parents:
        home = given or found.get(parent_id)
        if home is None:
            raise _unknown(parent_id)
        resolved.append((home, parent_id))
    return resolved


def waiting_steps(prefix: str, scripts: Scripts, job: PreparedJob,
                  id_window_ms: int) -> Generator[List[Command], List[Any], EnqueueOutcome]:
    """The round trips that enqueue ``job``, which has parents (see the module docs)."""
    parents = yield from resolve_parents(prefix, job)
    child = f"c|{job.job.queue}|{job.id}"
    states = yield [Command.evalsha(scripts["link_child"], [QueueKeys(prefix, queue).parent(parent_id)],
                                    [child]) for queue, parent_id in parents]
    pairs: List[Any] = []
    for (_, parent_id), state in zip(parents, states):
        if state is None:
            raise _unknown(parent_id)
        pairs += [parent_id, _text(state)]
    keys = QueueKeys(prefix, job.job.queue)
    commands: List[Command] = []
    if job.job.dependents:
        commands.append(Command.evalsha(scripts["parent_open"], [keys.parent(job.id)], [0]))
    waiting_keys = keys.waiting_keys(job.id)
    if job.given_id:
        waiting_keys.append(keys.id_marker(job.id))
    when, ms = job.when
    commands.append(Command.evalsha(scripts["enqueue_waiting"], waiting_keys, [
        keys.events, job.with_parents(parents), len(parents), job.job.on_parent_failure,
        when, ms, id_window_ms if job.given_id else "", *pairs]))
    try:
        replies = yield commands
    except ResponseError as err:
        refusal = refused_id(err)
        if refusal is None:
            raise
        raise refusal from err
    status = _text(replies[-1])
    if status == "exists":
        return EnqueueOutcome("exists", job.id)
    if status == "taken":
        raise DuplicateId(f"job id {job.id} is held by another job on queue {job.job.queue}", job.id)
    return EnqueueOutcome("enqueued", job.id)
