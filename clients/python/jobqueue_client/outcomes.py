"""Outcomes waiting to be written, and the script calls that write them
(as ``jobqueue-core/src/store/completion.rs`` packs them for the Rust worker).

Per queue, one pipelined round trip: ``ack.lua`` (unique jobs' locks given
as keys), or ``ack_keyed.lua`` when some jobs carry a flow key;
``ack_parents.lua`` for jobs enqueued with dependents (their results kept
for the dependents); ``retry.lua`` and ``bury.lua`` (with the flow keys'
``gready`` when keyed; ``bury.lua`` with the outbox and parent keys for jobs
with dependents, in calls of their own); then ``wake_waiters.lua`` for a
queue with flow limits. ``ack_parents.lua`` and ``bury.lua`` answer with
release outbox entries, which the worker then applies (releases.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .commands import Command
from .keys import QueueKeys
from .scripts import Scripts

#: Dead set bounds passed to bury.lua (the Rust defaults).
DEAD_MAX_JOBS = 10_000
DEAD_MAX_AGE_MS = 180 * 24 * 3600 * 1000
#: Most jobs per script call (as Rust).
MAX_PER_CALL = 1000


@dataclass
class QueueOutcomes:
    """What one worker finished on one queue since its last flush."""

    acks: List[Tuple[str, Optional[str]]] = field(default_factory=list)  # (id, unique digest)
    parent_acks: List[Tuple[str, str]] = field(default_factory=list)  # (id, result JSON or '')
    retries: List[Any] = field(default_factory=list)  # triples: id, delay ms, record
    burials: List[Any] = field(default_factory=list)  # triples: leased id, dead id, record
    parent_burials: List[Any] = field(default_factory=list)
    keyed: bool = False  # some jobs carry a flow key: the scripts release their keys

    def ids(self) -> List[str]:
        """The leased ids of every job here."""
        return [*(i for i, _ in self.acks), *(i for i, _ in self.parent_acks),
                *(str(x) for x in self.retries[0::3]), *(str(x) for x in self.burials[0::3]),
                *(str(x) for x in self.parent_burials[0::3])]


class Outcomes:
    """Outcomes waiting to be written, per queue, and tracked jobs' status writes."""

    def __init__(self) -> None:
        self.queues: Dict[str, QueueOutcomes] = {}
        # status writes, sent after the outcome scripts
        self.statuses: List[Command] = []

    def of(self, queue: str) -> QueueOutcomes:
        """The outcomes of ``queue`` (created empty)."""
        return self.queues.setdefault(queue, QueueOutcomes())

    def __bool__(self) -> bool:
        return bool(self.queues or self.statuses)


@dataclass
class Packed:
    """The commands of one flush, and which replies carry outbox entries."""

    commands: List[Command] = field(default_factory=list)
    # command index → queue, for calls answering {count, …, outbox entries}
    outbox_replies: Dict[int, Tuple[str, int]] = field(default_factory=dict)

    def releases(self, replies: List[Any]) -> Dict[str, List[str]]:
        """The outbox entries filed, per queue."""
        found: Dict[str, List[str]] = {}
        for index, (queue, skip) in self.outbox_replies.items():
            entries = [e.decode() if isinstance(e, bytes) else str(e) for e in replies[index][skip:]]
            if entries:
                found.setdefault(queue, []).extend(entries)
        return found


def _chunks(items: List[Any], size: int) -> List[List[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def pack(scripts: Scripts, worker_id: str, by_queue: Dict[str, QueueKeys], outcomes: Outcomes,
         limited: Dict[str, bool]) -> Packed:
    """The script calls that record ``outcomes``; ``limited`` says which
    queues have flow limits (their round trip ends with ``wake_waiters.lua``)."""
    packed = Packed()
    commands = packed.commands
    for queue, ended in outcomes.queues.items():
        keys = by_queue[queue]
        active = keys.active(worker_id)
        gready = [keys.flow_ready] if ended.keyed else []
        for chunk in _chunks(ended.acks, MAX_PER_CALL):
            if ended.keyed:  # ack_keyed.lua frees unique locks from the records
                commands.append(Command.evalsha(scripts["ack_keyed"], [active, keys.flow_ready, keys.stats],
                                                [i for i, _ in chunk]))
                continue
            unique = [(i, d) for i, d in chunk if d]
            commands.append(Command.evalsha(
                scripts["ack"], [active, keys.stats, *(keys.unique(d) for _, d in unique)],
                [*(i for i, _ in unique), *(i for i, d in chunk if not d)]))
        for chunk in _chunks(ended.parent_acks, MAX_PER_CALL):
            packed.outbox_replies[len(commands)] = (queue, 1)
            commands.append(Command.evalsha(
                scripts["ack_parents"], [active, keys.releases, keys.stats,
                                         *(keys.parent(i) for i, _ in chunk)],
                [*(i for i, _ in chunk), *(r for _, r in chunk)]))
        for triples in _chunks(ended.retries, 3 * MAX_PER_CALL):
            commands.append(Command.evalsha(scripts["retry"], [active, keys.retry, keys.jobs, keys.stats,
                                                               *gready], [keys.events, 1, *triples]))
        for triples in _chunks(ended.burials, 3 * MAX_PER_CALL):
            packed.outbox_replies[len(commands)] = (queue, 2)
            commands.append(Command.evalsha(scripts["bury"], [active, keys.dead, keys.jobs, keys.stats,
                                                              *gready],
                                            [DEAD_MAX_JOBS, DEAD_MAX_AGE_MS, *triples]))
        for triples in _chunks(ended.parent_burials, 3 * MAX_PER_CALL):
            packed.outbox_replies[len(commands)] = (queue, 2)
            commands.append(Command.evalsha(
                scripts["bury"], [active, keys.dead, keys.jobs, keys.stats, keys.flow_ready,
                                  keys.releases, *(keys.parent(str(i)) for i in triples[0::3])],
                [DEAD_MAX_JOBS, DEAD_MAX_AGE_MS, *triples]))
        if limited.get(queue):
            commands.append(wake_waiters(scripts, keys))
    commands += outcomes.statuses
    return packed


def wake_waiters(scripts: Scripts, keys: QueueKeys) -> Command:
    """Wakes the workers waiting for a slot of the queue's running limit."""
    return Command.evalsha(scripts["wake_waiters"], [keys.slotwait], [keys.events])
