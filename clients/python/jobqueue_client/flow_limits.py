"""Flow limits as a worker sees them (``jobqueue-worker/src/state/flow_limits.rs``).

A queue with limits (``P:{Q}:limits`` has ``max_running`` or
``rate_limit``) or that has had keyed jobs (``P:{Q}:flow`` exists) is
fetched with ``fetch_limited.lua``, which leases no more than the limits
allow across every worker, Rust or Python. The worker rechecks which
queues are limited at start, at every heartbeat and on an ``l`` message.
At a limit the script answers ``{3, retry after ms}``: the queue is held
back until then, or until ``w`` (a slot freed), ``r`` or ``c<id>`` arrives.
"""

from __future__ import annotations

import time
from typing import Any, List

import redis.asyncio

from .commands import Command, run_async
from .keys import QueueKeys
from .scripts import Scripts

#: How soon a queue held back by its running limit is asked again if no
#: freed slot woke the worker first (Rust: limit_recheck_interval), ms.
LIMIT_RECHECK_MS = 50


class QueueFlow:
    """One queue's flow-limit state in this worker."""

    def __init__(self) -> None:
        self.limited = False
        # the workers believed to hold leases on the queue (fetch_limited.lua corrects it)
        self.workers: List[str] = []
        self.held_until = 0.0  # time.monotonic() before which the queue is not asked

    def held(self) -> bool:
        """True while the limits hold the queue back."""
        return self.held_until > time.monotonic()

    def hold(self, retry_after_ms: int) -> None:
        """Holds the queue back for ``retry_after_ms``."""
        self.held_until = time.monotonic() + max(retry_after_ms, 1) / 1000

    def release(self) -> None:
        """A slot may have freed: ask again now."""
        self.held_until = 0.0


async def load_limited(client: "redis.asyncio.Redis", keys: QueueKeys) -> bool:
    """True when queue ``keys`` has flow limits or has had keyed jobs."""
    keyed, (max_running, rate_limit, rate_ms) = await run_async(client, [
        Command("EXISTS", keys.flow),
        Command("HMGET", keys.limits, "max_running", "rate_limit", "rate_ms")])
    return bool(keyed) or _number(max_running) is not None \
        or (_number(rate_limit) or 0) > 0 and (_number(rate_ms) or 0) > 0


def _number(value: Any) -> Any:
    """A limit field as the Rust worker reads it: a whole number, else None."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def fetch_limited(scripts: Scripts, keys: QueueKeys, worker_id: str, count: int,
                  workers: List[str]) -> Command:
    """A ``fetch_limited.lua`` call leasing up to ``count`` jobs."""
    return Command.evalsha(scripts["fetch_limited"], [
        keys.ready, keys.priority, keys.active(worker_id), keys.leases, keys.paused, keys.limits,
        keys.rate, keys.flow_ready, keys.flow_running, keys.flow_limits, keys.jobs, keys.slotwait,
        keys.window, *(keys.active(w) for w in workers)],
        [worker_id, count, LIMIT_RECHECK_MS, *workers])


def texts(values: List[Any]) -> List[str]:
    """Replies as text."""
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]
