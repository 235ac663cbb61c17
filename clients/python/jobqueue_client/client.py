"""Producers: :class:`Client` (sync) and :class:`AsyncClient` (asyncio)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, List, Optional, Sequence, Set, Tuple, Union

import redis
import redis.asyncio
from redis.exceptions import ResponseError

from .commands import run, run_async
from .enqueue import DEFAULT_ID_WINDOW_MS, Steps, enqueue_steps
from .keys import check_prefix
from .producer import EnqueueError, EnqueueOutcome, Job
from .scripts import Scripts, shared
from .status import JobStatus, parse_status, status_command

Result = Union[EnqueueOutcome, EnqueueError]


def _ids(outcomes: List[Result]) -> List[str]:
    """The ids of ``outcomes`` (the job standing for each); raises the first refusal
    (the other jobs stay enqueued, as with the Rust client's ``enqueue_prepared``)."""
    for outcome in outcomes:
        if isinstance(outcome, EnqueueError):
            raise outcome
    return [outcome.id for outcome in outcomes if isinstance(outcome, EnqueueOutcome)]


def _link(job: Job, previous: Optional[Tuple[str, str]], last: bool) -> Job:
    """``job`` as a link of a chain: after ``previous`` (queue, id), with dependents unless last."""
    after = [*job.after, previous] if previous else list(job.after)
    return replace(job, dependents=job.dependents or not last, after=after)


def _drive(client: "redis.Redis", steps: Steps) -> List[Result]:
    """Sends each round trip ``steps`` yields; returns what it returns."""
    try:
        commands = next(steps)
        while True:
            try:
                replies = run(client, commands)
            except ResponseError as err:
                commands = steps.throw(err)
            else:
                commands = steps.send(replies)
    except StopIteration as stop:
        return stop.value


async def _drive_async(client: "redis.asyncio.Redis", steps: Steps) -> List[Result]:
    """:func:`_drive` for ``redis.asyncio``."""
    try:
        commands = next(steps)
        while True:
            try:
                replies = await run_async(client, commands)
            except ResponseError as err:
                commands = steps.throw(err)
            else:
                commands = steps.send(replies)
    except StopIteration as stop:
        return stop.value


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
        """Enqueues one job; returns its id (for a unique job's duplicate, the
        id of the job holding the key). ``options`` are :class:`Job`'s
        fields: ``queue``, ``delay``, ``run_at``, ``priority``, ``tags``,
        ``max_attempts``, ``timeout_ms``, ``backoff``, ``version``, ``id``,
        ``track`` (a status from enqueue to end, for ``Client::wait_result``),
        ``unique_for``, ``unique_key``, ``on_duplicate``, ``idempotency_key``,
        ``idempotency_window``, ``flow_key``, ``expires_in``, ``expires_at``,
        ``dependents``, ``after``, ``on_parent_failure``."""
        return self.enqueue_many([Job(job_type, payload, **options)])[0]

    def enqueue_unique(self, job_type: str, payload: Any = None, **options: Any) -> EnqueueOutcome:
        """Enqueues one job and says what happened (enqueued, or the
        duplicate / debounced / replaced / exists outcome of a unique job, a
        given id or an idempotency key); raises its refusal."""
        (outcome,) = self.enqueue_outcomes([Job(job_type, payload, **options)])
        if isinstance(outcome, EnqueueError):
            raise outcome
        return outcome

    def enqueue_many(self, jobs: Sequence[Job]) -> List[str]:
        """Enqueues ``jobs`` (one round trip, a second when a wake-up is due,
        more for jobs with parents); returns their ids. Raises the first
        job's refusal (the others stay enqueued)."""
        return _ids(self.enqueue_outcomes(jobs))

    def enqueue_outcomes(self, jobs: Sequence[Job]) -> List[Result]:
        """Enqueues ``jobs`` as :meth:`enqueue_many` does; returns each job's
        :class:`EnqueueOutcome`, or the :class:`EnqueueError` that refused it.
        Invalid options raise :class:`InvalidJob` before anything is sent."""
        outcomes = _drive(self.redis, enqueue_steps(self.prefix, self.scripts, jobs,
                                                    self.id_window_ms, self._listed))
        self._listed.update(job.queue for job in jobs)
        return outcomes

    def chain(self, jobs: Sequence[Job]) -> List[str]:
        """Enqueues ``jobs`` so each runs after the previous one succeeded
        (``dependents`` and ``after``, as Rust's ``with_dependents().after()``);
        returns their ids."""
        ids: List[str] = []
        previous: Optional[Tuple[str, str]] = None
        for n, job in enumerate(jobs):
            (job_id,) = self.enqueue_many([_link(job, previous, n + 1 == len(jobs))])
            ids.append(job_id)
            previous = (job.queue, job_id)
        return ids

    def status(self, job_id: str, queue: str = "default") -> Optional[JobStatus]:
        """Job ``job_id``'s status on ``queue`` (a tracked job has one from its
        enqueue; others once they report progress or a result); None when none."""
        (reply,) = run(self.redis, [status_command(self.prefix, queue, job_id)])
        return parse_status(job_id, reply)

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

    async def enqueue_unique(self, job_type: str, payload: Any = None,
                             **options: Any) -> EnqueueOutcome:
        """See :meth:`Client.enqueue_unique`."""
        (outcome,) = await self.enqueue_outcomes([Job(job_type, payload, **options)])
        if isinstance(outcome, EnqueueError):
            raise outcome
        return outcome

    async def enqueue_many(self, jobs: Sequence[Job]) -> List[str]:
        """See :meth:`Client.enqueue_many`."""
        return _ids(await self.enqueue_outcomes(jobs))

    async def enqueue_outcomes(self, jobs: Sequence[Job]) -> List[Result]:
        """See :meth:`Client.enqueue_outcomes`."""
        outcomes = await _drive_async(self.redis, enqueue_steps(
            self.prefix, self.scripts, jobs, self.id_window_ms, self._listed))
        self._listed.update(job.queue for job in jobs)
        return outcomes

    async def chain(self, jobs: Sequence[Job]) -> List[str]:
        """See :meth:`Client.chain`."""
        ids: List[str] = []
        previous: Optional[Tuple[str, str]] = None
        for n, job in enumerate(jobs):
            (job_id,) = await self.enqueue_many([_link(job, previous, n + 1 == len(jobs))])
            ids.append(job_id)
            previous = (job.queue, job_id)
        return ids

    async def status(self, job_id: str, queue: str = "default") -> Optional[JobStatus]:
        """See :meth:`Client.status`."""
        (reply,) = await run_async(self.redis, [status_command(self.prefix, queue, job_id)])
        return parse_status(job_id, reply)

    async def close(self) -> None:
        """Closes the connection pool."""
        await self.redis.aclose() if hasattr(self.redis, "aclose") else await self.redis.close()
