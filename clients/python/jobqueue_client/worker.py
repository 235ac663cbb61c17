"""The asyncio worker: the worker contract of docs/protocol.md.

It leases jobs with ``fetch.lua`` (``fetch_limited.lua`` on a queue with
flow limits or keyed jobs: flow_limits.py) under a lease renewed by
``heartbeat.lua``, runs them with at most ``concurrency`` at once, records
outcomes in batches (outcomes.py: one pipelined round trip per flush) and
applies the release outbox of chains (releases.py), promotes due jobs
(``promote.lua``), reclaims the jobs of workers whose lease lapsed
(``expired_leases.lua`` + ``reclaim.lua``), publishes
itself in ``P:worker:<wid>`` for the dashboard, and on SIGTERM / SIGINT
stops fetching, lets running jobs finish within a grace period and hands
everything else back (``handback.lua``).

Run it from the command line with a module that registers handlers::

    python -m jobqueue_client.worker --url redis://127.0.0.1:6379 \\
        --prefix jq --queues default,mail --concurrency 10 --handlers myapp.jobs

where ``myapp/jobs.py`` defines ``def register(worker): worker.register(...)``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import secrets
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Set, Union

import redis.asyncio

from . import __version__
from .commands import Command, run_async
from .flow_limits import QueueFlow, fetch_limited, load_limited, texts
from .keys import QueueKeys, check_name, check_prefix
from .outcomes import Outcomes, pack, wake_waiters
from .record import (DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_S, Backoff,
                     MalformedRecord, encode_envelope, to_json, error_entry, malformed_record,
                     push_error, record_id, split_record, truncate_utf8)
from .releases import apply_releases, sweep_releases
from .scripts import Scripts, shared
from .waiting import wait_event

log = logging.getLogger("jobqueue_client.worker")

#: Envelope members of features this worker does not run yet: such jobs are
#: handed back untouched for a Rust worker (docs/other-languages.md).
UNSUPPORTED_MEMBERS = ("batch", "workflow")
#: Expired set bounds passed to expire.lua (the Rust defaults).
EXPIRED_MAX_JOBS = 10_000
EXPIRED_MAX_AGE_MS = 7 * 24 * 3600 * 1000
#: A tracked job's status TTL while it runs or will retry (Rust: PENDING_STATUS_TTL).
PENDING_STATUS_TTL_MS = 7 * 24 * 3600 * 1000
#: Largest result kept in a status, bytes (Rust: MAX_RESULT_BYTES).
MAX_RESULT_BYTES = 65_536
#: How long a ``c<id>`` for a job this worker does not run is remembered, in
#: case the fetch that leased the job answers after it, s.
CANCEL_MEMORY_S = 5.0
#: Longest progress message, bytes (Rust: MAX_PROGRESS_MESSAGE_BYTES).
MAX_PROGRESS_MESSAGE_BYTES = 512
#: Debug names of the failure kinds, as the Rust worker's `last_error` writes them.
_KIND_NAMES = {"panic": "Panic", "timeout": "Timeout", "lost": "Lost", "payload": "Payload",
               "unknown_type": "UnknownType", "malformed": "Malformed", "exhausted": "Exhausted"}


class PermanentError(Exception):
    """Raised by a handler for a failure that retrying cannot fix: the job
    goes to the dead set at once, with this message."""


@dataclass
class JobContext:
    """What a handler learns about the run, and :meth:`progress` to report to it."""

    id: str
    job_type: str
    queue: str
    attempt: int
    max_attempts: int
    envelope: Dict[str, Any]
    _report: Optional[Callable[[int, str], Awaitable[None]]] = field(default=None, repr=False)
    reported: bool = field(default=False, repr=False)

    async def progress(self, percent: int, message: str = "") -> None:
        """Reports progress (0-100 and a short message) in the job's status,
        readable at once with the Rust ``Client::status`` (as ``set_progress``)."""
        self.reported = True
        if self._report is not None:
            await self._report(percent, message)


Handler = Callable[[Any, JobContext], Union[Awaitable[Any], Any]]


@dataclass
class JobType:
    """A registered handler and its defaults (the Rust ``Job`` constants)."""

    handler: Handler
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    timeout_s: Optional[float] = DEFAULT_TIMEOUT_S
    backoff: Backoff = DEFAULT_BACKOFF


class Worker:
    """An asyncio worker serving ``queues`` of one prefix.

    >>> worker = Worker(redis.asyncio.Redis.from_url(url), queues=["default"])
    >>> worker.register("send_email", send_email, max_attempts=5)
    >>> await worker.run()   # until SIGTERM / SIGINT or worker.stop()
    """

    def __init__(self, redis_client: "redis.asyncio.Redis", queues: Sequence[str] = ("default",),
                 prefix: str = "jq", concurrency: int = 10, lease_ms: int = 30_000,
                 fetch_batch: int = 100, idle_poll_s: float = 2.0, reap_interval_s: float = 5.0,
                 shutdown_grace_s: float = 25.0, status_ttl_ms: int = 300_000,
                 scripts: Optional[Scripts] = None) -> None:
        self.redis = redis_client
        self.prefix = check_prefix(prefix)
        self.queues = [QueueKeys(prefix, check_name("queue", q)) for q in queues]
        self.concurrency = max(1, concurrency)
        self.lease_ms = lease_ms
        self.fetch_batch = max(1, min(fetch_batch, 1000))
        self.idle_poll_s = idle_poll_s
        self.reap_interval_s = reap_interval_s
        self.shutdown_grace_s = shutdown_grace_s
        self.status_ttl_ms = status_ttl_ms
        self.scripts = scripts or shared()
        self.id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
        self.job_types: Dict[str, JobType] = {}
        self.started_at_ms = int(time.time() * 1000)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._promote_now = asyncio.Event()
        self._outcomes = Outcomes()
        self._outcome_ready = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._draining = False
        self._running: Set["asyncio.Task[None]"] = set()
        self._by_id: Dict[str, "asyncio.Task[None]"] = {}
        # `c<id>` for jobs this worker did not run (yet): id → when (monotonic)
        self._cancelled_unstarted: Dict[str, float] = {}
        self._held: Dict[str, Set[str]] = {q.queue: set() for q in self.queues}
        self._flow: Dict[str, QueueFlow] = {q.queue: QueueFlow() for q in self.queues}
        self._by_channel: Dict[bytes, QueueKeys] = {q.events.encode(): q for q in self.queues}
        self._beaten = False
        self._backed_off: Dict[str, float] = {}

    # -- registration ------------------------------------------------------

    def register(self, job_type: str, handler: Handler, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                 timeout_s: Optional[float] = DEFAULT_TIMEOUT_S,
                 backoff: Backoff = DEFAULT_BACKOFF) -> None:
        """Runs jobs of ``job_type`` with ``handler(payload, ctx)`` (async or
        plain; a plain function runs in a thread). ``payload`` is the
        decoded JSON. Returning ends the job (a value other than None is
        kept, as JSON, as the job's result in its status); raising fails the
        attempt (:class:`PermanentError`: no retry)."""
        self.job_types[check_name("job type", job_type)] = JobType(
            handler, max_attempts, timeout_s, backoff)

    def job(self, job_type: str, **options: Any) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`register`."""
        def decorate(handler: Handler) -> Handler:
            self.register(job_type, handler, **options)
            return handler
        return decorate

    @property
    def busy(self) -> int:
        """Jobs running now."""
        return len(self._running)

    def stop(self) -> None:
        """Asks the worker to stop (what SIGTERM does)."""
        self._stopping.set()
        self._wake.set()
        self._slot_freed.set()

    # -- the run -----------------------------------------------------------

    async def run(self, install_signal_handlers: bool = True) -> None:
        """Serves the queues until :meth:`stop` (or SIGTERM / SIGINT), then shuts down gracefully."""
        loop = asyncio.get_running_loop()
        if install_signal_handlers:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop)
        await self._heartbeat()
        await self._load_limits()
        loops = [asyncio.create_task(coro) for coro in (
            self._heartbeat_loop(), self._listen(), self._promote_loop(), self._reap_loop())]
        writer = asyncio.create_task(self._outcome_loop())
        log.info("worker %s serving %s", self.id, ",".join(q.queue for q in self.queues))
        try:
            await self._fetch_loop()
        finally:
            await self._shutdown(loops, writer)
            if install_signal_handlers:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)

    async def _fetch_loop(self) -> None:
        while not self._stopping.is_set():
            got_any = False
            # Cleared before the round: a wake-up that comes during it is kept.
            self._wake.clear()
            for keys in self.queues:
                if self._stopping.is_set():
                    break
                if self._backed_off.get(keys.queue, 0.0) > time.monotonic() \
                        or self._flow[keys.queue].held():
                    continue
                free = self.concurrency - len(self._running)
                if free <= 0:
                    break
                records = await self._fetch(keys, min(free, self.fetch_batch))
                for record in records:
                    got_any = True
                    self._start(keys, record)
            if self._stopping.is_set():
                break
            if len(self._running) >= self.concurrency:
                self._slot_freed.clear()
                await self._slot_freed.wait()
            elif not got_any:
                await wait_event(self._wake, self._idle_wait())

    def _idle_wait(self) -> float:
        """How long an idle fetcher waits for a wake-up: the idle poll, or less
        when a queue held back by its flow limits may be asked again sooner."""
        now = time.monotonic()
        held = [flow.held_until - now for flow in self._flow.values() if flow.held_until > now]
        return min([self.idle_poll_s, *held])

    async def _fetch(self, keys: QueueKeys, count: int) -> List[bytes]:
        flow = self._flow[keys.queue]
        for _ in range(3):
            if flow.limited:
                call = fetch_limited(self.scripts, keys, self.id, count, flow.workers)
            else:
                call = Command.evalsha(self.scripts["fetch"], [keys.ready, keys.priority,
                                                               keys.active(self.id), keys.leases,
                                                               keys.paused], [self.id, count])
            try:
                (reply,) = await run_async(self.redis, [call])
                status = int(reply[0])
                if status == 0:
                    return list(reply[1:])
                if status == 2:  # no lease (it lapsed): beat, then fetch again
                    await self._heartbeat()
                    continue
                if status == 3:  # the flow limits allow nothing now
                    flow.hold(int(reply[1]))
                    return []
                if status == 4:  # the leasing workers' list was out of date
                    flow.workers = texts(reply[1:])
                    continue
                return []  # paused
            except Exception as err:  # noqa: BLE001 - a lost reply: reconcile, then go on
                log.warning("fetch from %s failed: %s", keys.queue, err)
                await self._reconcile(keys)
                await asyncio.sleep(0.5)
                return []
        return []

    def _start(self, keys: QueueKeys, record: bytes) -> None:
        job_id = record_id(record)
        self._held[keys.queue].add(job_id)
        task = asyncio.create_task(self._run_job(keys, record))
        self._running.add(task)
        self._by_id[job_id] = task
        task.add_done_callback(lambda done: self._job_done(job_id, done))

    def _job_done(self, job_id: str, task: "asyncio.Task[None]") -> None:
        self._running.discard(task)
        if self._by_id.get(job_id) is task:
            del self._by_id[job_id]
        self._slot_freed.set()

    async def _load_limits(self, only: Optional[QueueKeys] = None) -> None:
        """Which queues are fetched with ``fetch_limited.lua`` (start, heartbeat, ``l``)."""
        for keys in [only] if only else self.queues:
            flow = self._flow[keys.queue]
            limited = await load_limited(self.redis, keys)
            if limited != flow.limited or only:
                log.info("queue %s: flow limits %s", keys.queue, "on" if limited else "off")
                flow.limited = limited
                flow.release()
                self._wake.set()

    def _slots_may_have_freed(self) -> None:
        """``w``, ``r`` or ``c<id>``: queues held back by their limits are asked again."""
        for flow in self._flow.values():
            flow.release()
        self._wake.set()

    def _cancel(self, job_id: str) -> None:
        """``c<id>``: an operator cancelled the job (cancel.lua already took it
        out of the active hash): stop it; its outcome calls would change nothing."""
        task = self._by_id.get(job_id)
        if task is not None and not task.done():
            log.info("job %s cancelled by an operator: stopping it", job_id)
            task.cancel()
            for held in self._held.values():
                held.discard(job_id)
        elif task is None:
            # The message may come before the fetch reply that leased the job
            # (another connection): remembered briefly, checked as it starts.
            now = time.monotonic()
            self._cancelled_unstarted = {i: at for i, at in self._cancelled_unstarted.items()
                                         if now - at < CANCEL_MEMORY_S}
            if len(self._cancelled_unstarted) < 10_000:
                self._cancelled_unstarted[job_id] = now

    # -- one job -----------------------------------------------------------

    async def _run_job(self, keys: QueueKeys, record: bytes) -> None:
        leased_id = record_id(record)
        if self._cancelled_unstarted.pop(leased_id, None) is not None \
                and not await self.redis.hexists(keys.active(self.id), leased_id):
            log.info("job %s cancelled by an operator before it started: not run", leased_id)
            self._held[keys.queue].discard(leased_id)
            return
        try:
            envelope, payload_bytes = split_record(record)
        except MalformedRecord as err:
            dead_id, final = malformed_record(record, str(err))
            self._bury(keys, leased_id, dead_id, final, dependents=False)
            return
        unsupported = [m for m in UNSUPPORTED_MEMBERS if m in envelope]
        if unsupported:
            log.warning("job %s uses %s, which this worker does not run: handed back",
                        leased_id, ",".join(unsupported))
            self._backed_off[keys.queue] = time.monotonic() + self.idle_poll_s
            await self._hand_back(keys, [leased_id], release=False)
            return
        expires_at = envelope.get("expires_at")
        if isinstance(expires_at, int) and expires_at <= time.time() * 1000 \
                and await self._expire(keys, leased_id, expires_at, envelope):
            return  # not started in time: dropped as expired (Redis's clock decided)
        job_type = self.job_types.get(envelope["type"])
        attempt = int(envelope.get("attempt") or 0) + 1
        max_attempts = int(envelope.get("max_attempts") or
                           (job_type.max_attempts if job_type else DEFAULT_MAX_ATTEMPTS))
        if job_type is None:
            known = ", ".join(sorted(self.job_types)) or "none"
            self._fail(keys, leased_id, envelope, payload_bytes, attempt, "unknown_type",
                       f"no handler registered for job type {envelope['type']!r} "
                       f"on this Python worker (registered: {known})", final=True)
            return
        if attempt > max_attempts:
            self._fail(keys, leased_id, envelope, payload_bytes, attempt - 1, "exhausted",
                       f"attempt {attempt} exceeds the limit of {max_attempts} attempts; the runs "
                       "after the last recorded error were lost with their worker (lease expired)",
                       final=True)
            return
        encoding = envelope.get("enc")
        if encoding is not None:
            # A compressed or encrypted payload (docs/payload-encoding.md) is a
            # JSON string of base64: running the handler on it would mis-run
            # the job, so it is dead with the reason instead.
            self._fail(keys, leased_id, envelope, payload_bytes, attempt, "payload",
                       f"the payload is encoded ({encoding!s:.80}); this Python worker reads "
                       "only plain payloads: run this job type on a Rust worker holding the "
                       "payload keys", final=True)
            return
        try:
            payload = json.loads(payload_bytes)
        except ValueError as err:
            self._fail(keys, leased_id, envelope, payload_bytes, attempt, "payload",
                       f"payload is not JSON: {err}", final=True)
            return
        tracked = envelope.get("track") is True
        ctx = JobContext(leased_id, envelope["type"], keys.queue, attempt, max_attempts, envelope,
                         self._reporter(keys, leased_id, tracked))
        if tracked:
            await self._status_started(keys, leased_id)
        timeout_ms = envelope.get("timeout_ms")
        timeout = timeout_ms / 1000 if isinstance(timeout_ms, int) and timeout_ms > 0 else job_type.timeout_s
        try:
            result = await asyncio.wait_for(self._call(job_type.handler, payload, ctx), timeout)
        except asyncio.CancelledError:
            raise  # shutdown past its grace: the job is handed back
        except asyncio.TimeoutError:
            self._fail(keys, leased_id, envelope, payload_bytes, attempt, "timeout",
                       f"timed out after {timeout} s", final=attempt >= max_attempts,
                       backoff=job_type.backoff, reported=ctx.reported)
        except PermanentError as err:
            self._fail(keys, leased_id, envelope, payload_bytes, attempt, "error",
                       _describe(err), final=True, reported=ctx.reported)
        except Exception as err:  # noqa: BLE001 - every handler error is recorded
            self._fail(keys, leased_id, envelope, payload_bytes, attempt, "error",
                       _describe(err), final=attempt >= max_attempts, backoff=job_type.backoff,
                       reported=ctx.reported)
        else:
            result_json = _result_json(leased_id, result)
            self._ack(keys, leased_id, envelope, result_json)
            if tracked or ctx.reported or result_json is not None:
                self._status_finished(keys, leased_id, "succeeded", result_json=result_json)

    @staticmethod
    async def _call(handler: Handler, payload: Any, ctx: JobContext) -> Any:
        if inspect.iscoroutinefunction(handler):
            return await handler(payload, ctx)
        result = await asyncio.to_thread(handler, payload, ctx)
        if inspect.isawaitable(result):
            return await result
        return result

    async def _expire(self, keys: QueueKeys, job_id: str, expires_at: int,
                      envelope: Dict[str, Any]) -> bool:
        """Offers the job to expire.lua; True when it was dropped as expired
        (a job with dependents is then a dead parent to them)."""
        dependents = envelope.get("dependents") is True
        unique = envelope.get("unique")
        parent_keys = [keys.releases, keys.parent(job_id)] if dependents else []
        lock = [keys.unique(unique)] if unique else []
        commands = [Command.evalsha(
            self.scripts["expire"], [keys.active(self.id), keys.expired, keys.jobs, keys.stats,
                                     *parent_keys, *lock],
            [job_id, expires_at, EXPIRED_MAX_JOBS, EXPIRED_MAX_AGE_MS, int(dependents)])]
        if self._flow[keys.queue].limited:
            commands.append(wake_waiters(self.scripts, keys))
        dropped = (await run_async(self.redis, commands))[0]
        if int(dropped) != 1:
            return False
        self._held[keys.queue].discard(job_id)
        if dependents:
            await self._tell_children(keys, [f"{job_id}|failed"])
        return True

    async def _status_started(self, keys: QueueKeys, job_id: str) -> None:
        """A tracked job's status becomes ``running`` as it starts."""
        key = keys.status(job_id)
        try:
            await run_async(self.redis, [
                Command("HSET", key, "updated_at", int(time.time() * 1000), "state", "running"),
                Command("PEXPIRE", key, PENDING_STATUS_TTL_MS)])
        except Exception as err:  # noqa: BLE001 - a status is a report, not the job
            log.debug("could not mark job %s running: %s", job_id, err)

    def _reporter(self, keys: QueueKeys, job_id: str,
                  tracked: bool) -> Callable[[int, str], Awaitable[None]]:
        """What ``ctx.progress`` writes: ``running`` with ``percent``, ``message``
        and ``stale`` 0 (TTL 7 days for a tracked job, else ``status_ttl_ms``)."""
        key = keys.status(job_id)
        ttl = PENDING_STATUS_TTL_MS if tracked else self.status_ttl_ms

        async def report(percent: int, message: str) -> None:
            percent = min(max(int(percent), 0), 100)
            text = truncate_utf8(str(message), MAX_PROGRESS_MESSAGE_BYTES)
            await run_async(self.redis, [
                Command("HSET", key, "updated_at", int(time.time() * 1000), "state", "running",
                        "percent", percent, "message", text, "stale", 0),
                Command("PEXPIRE", key, ttl)])
        return report

    def _status_finished(self, keys: QueueKeys, job_id: str, state: str,
                         result_json: Optional[str] = None, error: Optional[str] = None) -> None:
        """The status a run ended in, written with the outcomes (after them)."""
        fields: List[Any] = ["updated_at", int(time.time() * 1000), "state", state]
        if result_json is not None and state == "succeeded":
            fields += ["result", result_json]
        if error is not None:
            fields += ["error", error]
        ttl = PENDING_STATUS_TTL_MS if state == "retrying" else self.status_ttl_ms
        key = keys.status(job_id)
        self._outcomes.statuses += [Command("HSET", key, *fields), Command("PEXPIRE", key, ttl)]

    def _ack(self, keys: QueueKeys, job_id: str, envelope: Dict[str, Any],
             result_json: Optional[str]) -> None:
        ended = self._outcomes.of(keys.queue)
        ended.keyed |= "flow" in envelope
        if envelope.get("dependents") is True:  # ack_parents.lua keeps its result for them
            ended.parent_acks.append((job_id, result_json or ""))
        else:
            ended.acks.append((job_id, envelope.get("unique")))
        self._outcome_ready.set()

    def _fail(self, keys: QueueKeys, leased_id: str, envelope: Dict[str, Any], payload: bytes,
              attempt: int, kind: str, message: str, final: bool,
              backoff: Optional[Backoff] = None, reported: bool = False) -> None:
        envelope["attempt"] = attempt
        envelope.pop("run_at", None)  # as the Rust worker: the scripts write the next one
        push_error(envelope, error_entry(attempt, kind, message))
        record = encode_envelope(envelope) + b"\n" + payload
        if envelope.get("track") is True or reported:
            error = message if kind == "error" else f"{_KIND_NAMES.get(kind, kind)}: {message}"
            self._status_finished(keys, leased_id, "dead" if final else "retrying",
                                  error=error[:2048])
        ended = self._outcomes.of(keys.queue)
        ended.keyed |= "flow" in envelope
        if final:
            self._bury(keys, leased_id, leased_id, record, envelope.get("dependents") is True)
            return
        policy = Backoff.from_json(envelope.get("backoff")) or backoff or DEFAULT_BACKOFF
        ended.retries.extend([leased_id, policy.delay_ms_for(attempt), record])
        self._outcome_ready.set()

    def _bury(self, keys: QueueKeys, leased_id: str, dead_id: str, record: bytes,
              dependents: bool) -> None:
        ended = self._outcomes.of(keys.queue)
        (ended.parent_burials if dependents else ended.burials).extend([leased_id, dead_id, record])
        self._outcome_ready.set()

    # -- outcomes ----------------------------------------------------------

    async def _outcome_loop(self) -> None:
        while not (self._draining and not self._outcomes):
            await self._outcome_ready.wait()
            self._outcome_ready.clear()
            await self._flush_outcomes()

    async def _flush_outcomes(self) -> None:
        outcomes, self._outcomes = self._outcomes, Outcomes()
        if not outcomes:
            return
        by_queue = {q.queue: q for q in self.queues}
        limited = {queue: flow.limited for queue, flow in self._flow.items()}
        packed = pack(self.scripts, self.id, by_queue, outcomes, limited)
        replies: List[Any] = []
        for attempt in range(5):
            try:
                replies = await run_async(self.redis, packed.commands)
                break
            except Exception as err:  # noqa: BLE001 - retried: the scripts are idempotent
                log.warning("recording outcomes failed (attempt %d): %s", attempt + 1, err)
                await asyncio.sleep(0.2 * (attempt + 1))
        for queue, ended in outcomes.queues.items():
            self._held[queue].difference_update(ended.ids())
        if replies:
            for queue, entries in packed.releases(replies).items():
                await self._tell_children(by_queue[queue], entries)

    async def _tell_children(self, keys: QueueKeys, entries: List[str]) -> None:
        """Applies release outbox entries this worker filed; on failure the
        reapers' sweep applies them later."""
        try:
            await apply_releases(self.redis, self.scripts, self.prefix, keys, entries)
        except Exception as err:  # noqa: BLE001 - left in the outbox for the sweep
            log.warning("telling the dependents on %s failed (the sweep retries): %s",
                        keys.queue, err)

    # -- housekeeping ------------------------------------------------------

    async def _heartbeat(self) -> None:
        now_ms = int(time.time() * 1000)
        commands = [Command.evalsha(self.scripts["heartbeat"], [q.leases], [self.id, self.lease_ms])
                    for q in self.queues]
        info_key = f"{self.prefix}:worker:{self.id}"
        commands += [
            Command("HSET", info_key, *self._info_fields(now_ms)),
            Command("PEXPIRE", info_key, self.lease_ms),
            Command("ZADD", f"{self.prefix}:workers", now_ms, self.id),
        ]
        replies = await run_async(self.redis, commands)
        if self._beaten and any(int(r) == 0 for r in replies[:len(self.queues)]):
            log.warning("worker %s lost its lease: its jobs were reclaimed and may run twice", self.id)
        self._beaten = True

    def _info_fields(self, now_ms: int) -> List[Any]:
        fields = {
            "id": self.id, "host": socket.gethostname(), "pid": os.getpid(),
            "queues": ",".join(q.queue for q in self.queues), "concurrency": self.concurrency,
            "busy": len(self._running), "started_at": self.started_at_ms, "last_beat_at": now_ms,
            "version": f"{__version__} (python {sys.version.split()[0]})", "language": "python",
            "stopping": int(self._stopping.is_set()),
        }
        return [part for pair in fields.items() for part in pair]

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ms / 6000)
            try:
                await self._heartbeat()
                await self._load_limits()
            except Exception as err:  # noqa: BLE001 - the next beat tries again
                log.warning("heartbeat failed: %s", err)

    async def _listen(self) -> None:
        """Wake-ups from the queues' events channels; reconnects after an error
        (meanwhile the idle poll and the promoter's own timer cover)."""
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(*(q.events for q in self.queues))
                self._wake.set()  # anything published while unsubscribed
                self._promote_now.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = message.get("data")
                    if data == b"u":
                        self._wake.set()
                    elif data in (b"r", b"w"):
                        self._slots_may_have_freed()
                    elif data == b"s":
                        self._promote_now.set()
                    elif data == b"l":
                        keys = self._by_channel.get(message.get("channel") or b"")
                        if keys is not None:
                            asyncio.create_task(self._load_limits(keys))
                    elif isinstance(data, bytes) and data.startswith(b"c"):
                        self._cancel(data[1:].decode("utf-8", "replace"))
                        self._slots_may_have_freed()
            except Exception as err:  # noqa: BLE001 - subscribe again after a pause
                log.warning("events subscription failed: %s", err)
                await asyncio.sleep(1.0)
            finally:
                await pubsub.aclose() if hasattr(pubsub, "aclose") else await pubsub.close()

    async def _promote_loop(self) -> None:
        while True:
            wait = self.idle_poll_s * 5
            for keys in self.queues:
                try:
                    (reply,) = await run_async(self.redis, [Command.evalsha(
                        self.scripts["promote"],
                        [keys.scheduled, keys.retry, keys.jobs, keys.ready, keys.priority],
                        [keys.events, 1000])])
                except Exception as err:  # noqa: BLE001 - tried again on the next round
                    log.warning("promote on %s failed: %s", keys.queue, err)
                    continue
                moved, next_at, now = int(reply[0]), reply[1], float(reply[2])
                if moved >= 1000:
                    wait = 0.0
                elif next_at not in (b"", ""):
                    wait = min(wait, max(0.0, (float(next_at) - now) / 1000))
            self._promote_now.clear()
            await wait_event(self._promote_now, wait)

    async def _reap_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reap_interval_s * (0.8 + 0.4 * secrets.randbelow(1000) / 1000))
            try:
                await self._reap()
            except Exception as err:  # noqa: BLE001 - tried again on the next round
                log.warning("reaping failed: %s", err)

    async def _reap(self) -> None:
        for keys in self.queues:
            (lapsed,) = await run_async(self.redis, [Command.evalsha(
                self.scripts["expired_leases"], [keys.leases], [100])])
            for wid in (w.decode() for w in lapsed):
                if wid == self.id:
                    continue
                commands = [Command.evalsha(
                    self.scripts["reclaim"],
                    [keys.leases, keys.active(wid), keys.ready, keys.stats], [wid, keys.events])]
                if self._flow[keys.queue].limited:
                    commands.append(wake_waiters(self.scripts, keys))
                moved = (await run_async(self.redis, commands))[0]
                if int(moved) > 0:
                    log.info("reclaimed %s jobs of lapsed worker %s on %s", moved, wid, keys.queue)
            await sweep_releases(self.redis, self.scripts, self.prefix, keys)
        workers_key = f"{self.prefix}:workers"
        (members,) = await run_async(self.redis, [Command("ZRANGE", workers_key, 0, 999)])
        if members:
            alive = await run_async(self.redis, [
                Command("EXISTS", f"{self.prefix}:worker:{member.decode()}") for member in members])
            gone = [m for m, live in zip(members, alive) if not live]
            if gone:
                await run_async(self.redis, [Command("ZREM", workers_key, *gone)])

    async def _reconcile(self, keys: QueueKeys) -> None:
        """Hands back jobs in the active hash this worker never received (a lost fetch reply)."""
        try:
            (fields,) = await run_async(self.redis, [Command("HKEYS", keys.active(self.id))])
            leased = {field.decode() for field in fields}
            strays = sorted(leased - self._held[keys.queue])
            if strays:
                await self._hand_back(keys, strays, release=False)
        except Exception as err:  # noqa: BLE001 - the next failed fetch tries again
            log.warning("reconciling %s failed: %s", keys.queue, err)

    async def _hand_back(self, keys: QueueKeys, ids: Sequence[str], release: bool) -> int:
        commands = [Command.evalsha(
            self.scripts["handback"], [keys.active(self.id), keys.ready, keys.leases],
            [self.id, keys.events, int(release), *ids])]
        if self._flow[keys.queue].limited:
            commands.append(wake_waiters(self.scripts, keys))
        count = (await run_async(self.redis, commands))[0]
        self._held[keys.queue].difference_update(ids)
        return int(count)

    async def _shutdown(self, loops: List["asyncio.Task[None]"],
                        writer: "asyncio.Task[None]") -> None:
        self._stopping.set()
        log.info("worker %s stopping: %d jobs running", self.id, len(self._running))
        try:
            await self._heartbeat()  # shows `stopping` in the dashboard
        except Exception as err:  # noqa: BLE001
            log.warning("heartbeat failed: %s", err)
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=self.shutdown_grace_s)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        # The outcome writer ends once everything recorded is written.
        self._draining = True
        self._outcome_ready.set()
        await asyncio.gather(writer, return_exceptions=True)
        for keys in self.queues:
            # Everything still in the active hash (unstarted or cut short) goes back.
            handed = await self._hand_back(keys, [], release=True)
            if handed:
                log.info("handed back %d jobs on %s", handed, keys.queue)
        await self.redis.delete(f"{self.prefix}:worker:{self.id}")
        await self.redis.zrem(f"{self.prefix}:workers", self.id)


def _result_json(job_id: str, result: Any) -> Optional[str]:
    """A handler's return value as JSON for its status (and its dependents),
    or None: nothing returned, not JSON, or over :data:`MAX_RESULT_BYTES`."""
    if result is None:
        return None
    try:
        text = to_json(result)
    except (TypeError, ValueError) as err:
        log.warning("job %s returned a result that is not JSON: %s", job_id, err)
        return None
    if len(text.encode()) > MAX_RESULT_BYTES:
        log.warning("job %s returned a result over %d bytes: not kept", job_id, MAX_RESULT_BYTES)
        return None
    return text


def _describe(err: BaseException) -> str:
    """The error's type and message, then the Python traceback."""
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    return f"{type(err).__name__}: {err}\n{text}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m jobqueue_client.worker``: see :func:`jobqueue_client.cli.main`."""
    from .cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
