"""Producers: :class:`Client` (sync) and :class:`AsyncClient` (asyncio)."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Set

import redis
import redis.asyncio

from .commands import run, run_async
from .keys import check_prefix
from .producer import DEFAULT_ID_WINDOW_MS, Job, plan
from .scripts import Scripts, shared


class Client:
    """Enqueues jobs from synchronous code.

    >>> client = Client.from_url("redis://127.0.0.1:6379", prefix="jq")
    >>> job_id = client.enqueue("send_email", {"user_id": 7}, queue="mail")
    """

    def __init__(self, redis_client: "redis.Redis", prefix: str = "jq",
                 scripts: Optional[Scripts] = None,
                 id_window_ms: int = DEFAULT_ID_WINDOW_MS) -> None:
        self.redis = redis_client
        self.prefix = check_prefix(prefix)
        self.scripts = scripts or shared()
        self.id_window_ms = id_window_ms
        self._listed: Set[str] = set()  # queues already added to P:queues

    @classmethod
    def from_url(cls, url: str, prefix: str = "jq") -> "Client":
        """A client connected to the Redis at ``url``."""
        return cls(redis.Redis.from_url(url), prefix)

    def enqueue(self, job_type: str, payload: Any = None, **options: Any) -> str:
        """Enqueues one job; returns its id. ``options`` are :class:`Job`'s
        fields: ``queue``, ``delay``, ``run_at``, ``priority``, ``tags``,
        ``max_attempts``, ``timeout_ms``, ``backoff``, ``version``, ``id``,
        ``track`` (a status from enqueue to end, for ``Client::wait_result``)."""
        return self.enqueue_many([Job(job_type, payload, **options)])[0]

    def enqueue_many(self, jobs: Sequence[Job]) -> List[str]:
        """Enqueues ``jobs`` in one round trip (two when a wake-up is due); returns their ids."""
        steps = plan(self.prefix, self.scripts, jobs, self.id_window_ms, self._listed)
        results = run(self.redis, steps.commands)
        wake_ups = steps.follow_up(results)
        if wake_ups:
            run(self.redis, wake_ups)
        self._listed.update(steps.queues)
        return steps.ids

    def close(self) -> None:
        """Closes the connection pool."""
        self.redis.close()


class AsyncClient:
    """Enqueues jobs from asyncio code; the same calls as :class:`Client`, awaited."""

    def __init__(self, redis_client: "redis.asyncio.Redis", prefix: str = "jq",
                 scripts: Optional[Scripts] = None,
                 id_window_ms: int = DEFAULT_ID_WINDOW_MS) -> None:
        self.redis = redis_client
        self.prefix = check_prefix(prefix)
        self.scripts = scripts or shared()
        self.id_window_ms = id_window_ms
        self._listed: Set[str] = set()  # queues already added to P:queues

    @classmethod
    def from_url(cls, url: str, prefix: str = "jq") -> "AsyncClient":
        """A client connected to the Redis at ``url``."""
        return cls(redis.asyncio.Redis.from_url(url), prefix)

    async def enqueue(self, job_type: str, payload: Any = None, **options: Any) -> str:
        """See :meth:`Client.enqueue`."""
        return (await self.enqueue_many([Job(job_type, payload, **options)]))[0]

    async def enqueue_many(self, jobs: Sequence[Job]) -> List[str]:
        """See :meth:`Client.enqueue_many`."""
        steps = plan(self.prefix, self.scripts, jobs, self.id_window_ms, self._listed)
        results = await run_async(self.redis, steps.commands)
        wake_ups = steps.follow_up(results)
        if wake_ups:
            await run_async(self.redis, wake_ups)
        self._listed.update(steps.queues)
        return steps.ids

    async def close(self) -> None:
        """Closes the connection pool."""
        await self.redis.aclose() if hasattr(self.redis, "aclose") else await self.redis.close()
