"""The release outbox of job chains (docs/protocol.md, "The release
outbox"), as ``jobqueue-core/src/store/releases.rs`` applies it.

A parent's end is recorded on its own queue in the same step as the
outcome, as ``<parent id>|<outcome>`` in ``P:{Q}:releases``. Whoever wrote
the entry applies it right after (and every worker's reaper sweeps entries
a crashed worker left): read the parent's children from its parent hash
(``c|<child queue>|<child id>``), tell each child's queue with the
idempotent ``release_child.lua``, then remove the entry. Entries of child
batches (``b|…``) are left for a worker that runs batches.
"""

from __future__ import annotations

import logging
from typing import Any, List

import redis.asyncio

from .commands import Command, run_async
from .keys import QueueKeys
from .scripts import Scripts

log = logging.getLogger("jobqueue_client.releases")

#: Most outbox entries one sweep applies per queue (Rust: SWEEP_BATCH).
SWEEP_BATCH = 100


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def apply_releases(client: "redis.asyncio.Redis", scripts: Scripts, prefix: str,
                         keys: QueueKeys, entries: List[str]) -> int:
    """Tells the children of each parent in ``entries`` (of queue ``keys``)
    that it ended, then removes the entries. Safe to repeat and to run
    concurrently. Returns how many children were told."""
    parents = [entry.split("|", 1) for entry in entries if not entry.startswith("b|") and "|" in entry]
    if not parents:
        return 0
    children = await run_async(client, [Command("HKEYS", keys.parent(parent)) for parent, _ in parents])
    calls: List[Command] = []
    for (parent, outcome), fields in zip(parents, children):
        for field in (_text(f) for f in fields):
            if not field.startswith("c|"):
                continue
            child_queue, _, child_id = field[2:].rpartition("|")
            try:
                child = QueueKeys(prefix, child_queue)
            except ValueError:
                log.warning("skipping child %s of parent %s: invalid queue name", field, parent)
                continue
            calls.append(Command.evalsha(scripts["release_child"], child.waiting_keys(child_id),
                                         [child.events, child_id, parent, outcome]))
    for start in range(0, len(calls), 1000):
        await run_async(client, calls[start:start + 1000])
    await run_async(client, [Command("ZREM", keys.releases, *(f"{p}|{o}" for p, o in parents))])
    return len(calls)


async def sweep_releases(client: "redis.asyncio.Redis", scripts: Scripts, prefix: str,
                         keys: QueueKeys) -> int:
    """Applies up to :data:`SWEEP_BATCH` entries a worker left in the outbox
    of queue ``keys`` (it died between the outcome and telling the children)."""
    (entries,) = await run_async(client, [Command("ZRANGE", keys.releases, 0, SWEEP_BATCH - 1)])
    texts = [_text(e) for e in entries]
    await apply_releases(client, scripts, prefix, keys, texts)
    return len(texts)
