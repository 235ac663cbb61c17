"""What a producer enqueues: :class:`Job` and its options, checked as the
Rust client checks them (``jobqueue-core/src/client/prepare.rs``), and
what an enqueue did (:class:`EnqueueOutcome`) or why it was refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .keys import check_name
from .record import Backoff, encode_record, to_json, uuid7

#: Most tags of a job (Rust: MAX_TAGS).
MAX_TAGS = 8
#: Longest flow key, bytes (Rust: MAX_FLOW_KEY_LEN).
MAX_FLOW_KEY_LEN = 200
#: Longest unique-for and unique delay, ms (Rust: MAX_UNIQUE_TTL_MS).
MAX_UNIQUE_TTL_MS = 1 << 53
#: Longest idempotency key, bytes, and window, ms (Rust: MAX_KEY_BYTES, MAX_WINDOW).
MAX_IDEMPOTENCY_KEY_BYTES = 1024
MAX_IDEMPOTENCY_WINDOW_MS = 30 * 24 * 3600 * 1000
#: Most distinct parents of a job (Rust: MAX_PARENTS).
MAX_PARENTS = 1000
#: What a duplicate of a unique job does (Rust: UniqueMode).
UNIQUE_MODES = ("reject", "replace", "debounce")
#: What a parent's death does to its dependent (Rust: OnParentFailure).
PARENT_FAILURE_POLICIES = ("dead_letter", "run", "wait", "skip")

Delay = Union[float, int, dt.timedelta]
#: A parent: its id (its queue is looked up among the known queues), or ``(queue, id)``.
Parent = Union[str, Tuple[str, str]]


class EnqueueError(Exception):
    """A job was refused: invalid options, or a conflict with a stored job."""


class InvalidJob(EnqueueError):
    """Options the protocol refuses; nothing was written for the job."""


class UnknownParent(InvalidJob):
    """A parent named in ``after`` is not a job enqueued with ``dependents=True``
    (or finished more than 30 days ago); the job was not enqueued."""


class JobConflict(EnqueueError):
    """The job conflicts with a stored one; nothing was written for it."""

    def __init__(self, message: str, job_id: str) -> None:
        super().__init__(message)
        self.job_id = job_id


class DuplicateId(JobConflict):
    """Its given id (``id=``) is held by another job (``job_id``)."""


class IdempotencyConflict(JobConflict):
    """Its idempotency key is held by a job (``job_id``) of another type or payload."""


@dataclass(frozen=True)
class EnqueueOutcome:
    """What an enqueue did with one job (Rust: ``UniqueOutcome``).

    ``status`` is ``enqueued`` (``id`` is the new job), ``duplicate`` (a unique
    job's key is held by job ``id``: nothing enqueued), ``debounced`` (the
    holder ``id`` was pushed back), ``replaced`` (the new job ``id`` took the
    key; ``replaced`` is the waiting job it deleted, if any) or ``exists``
    (a retried enqueue under a given id or idempotency key found job ``id``)."""

    status: str
    id: str
    replaced: Optional[str] = None

    @property
    def duplicate(self) -> bool:
        """True when nothing new was enqueued: another job stands for this one."""
        return self.status in ("duplicate", "debounced", "exists")


def delay_ms(delay: Delay, what: str) -> int:
    """``delay`` (seconds, or a timedelta) in whole milliseconds; refuses a negative one."""
    if isinstance(delay, dt.timedelta):
        ms = delay // dt.timedelta(milliseconds=1)
    else:
        ms = int(round(float(delay) * 1_000_000)) // 1000
    if ms < 0:
        raise InvalidJob(f"{what} must not be negative")
    return ms


@dataclass
class Job:
    """One job to enqueue. ``payload`` is what serde sees: any JSON value
    (a dict for a Rust struct). ``delay`` (seconds or a timedelta) or
    ``run_at`` (an aware datetime) schedules it; ``id`` (a UUID v7) makes
    the enqueue idempotent for an hour (enqueue_with_id.lua).

    ``unique_for`` (with ``unique_key``, ``on_duplicate``): at most one such
    job waits or runs on the queue (enqueue_unique.lua); ``idempotency_key``
    with ``idempotency_window``: at most one job per key within the window
    (enqueue_idempotent.lua); ``flow_key`` (``class:value``): keyed flow
    control; ``expires_in`` / ``expires_at``: dropped if not started by
    then; ``dependents``: other jobs may run ``after`` it; ``after``: runs
    once these parents succeeded (``on_parent_failure`` says what a dead
    parent does)."""

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
    unique_for: Optional[Delay] = None
    unique_key: Optional[str] = None
    on_duplicate: Optional[str] = None
    idempotency_key: Optional[str] = None
    idempotency_window: Optional[Delay] = None
    flow_key: Optional[str] = None
    expires_in: Optional[Delay] = None
    expires_at: Optional[dt.datetime] = None
    dependents: bool = False
    after: Sequence[Parent] = field(default_factory=tuple)
    on_parent_failure: str = "dead_letter"

    def when(self) -> Tuple[str, int]:
        """``("now", 0)``, ``("in", delay ms)`` or ``("at", epoch ms)``."""
        if self.run_at is not None:
            if self.run_at.tzinfo is None:
                raise InvalidJob("run_at must be an aware datetime (give it a tzinfo)")
            return "at", int(self.run_at.timestamp() * 1000)
        if self.delay is not None:
            ms = delay_ms(self.delay, "delay")
            if ms > 0:
                return "in", ms
        return "now", 0

    def check(self) -> None:
        """Raises :class:`InvalidJob` for options the protocol refuses."""
        try:
            check_name("job type", self.job_type)
            check_name("queue", self.queue)
        except ValueError as err:
            raise InvalidJob(str(err)) from err
        if not -100 <= self.priority <= 100:
            raise InvalidJob(f"priority {self.priority} is outside -100..=100")
        tags = list(dict.fromkeys(self.tags))
        if len(tags) > MAX_TAGS:
            raise InvalidJob(f"at most {MAX_TAGS} distinct tags")
        for tag in tags:
            if not 1 <= len(tag.encode()) <= 64 or any(ord(c) < 32 or ord(c) == 127 for c in tag):
                raise InvalidJob(f"tag {tag!r} must be 1-64 bytes without control characters")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise InvalidJob("max_attempts must be at least 1")
        if self.id is not None:
            self._check_given_id()
        if self.flow_key is not None:
            check_flow_key(self.flow_key)
        if self.on_parent_failure != "dead_letter" or self.after or self.is_unique \
                or self.idempotency_key is not None or self.idempotency_window is not None \
                or self.expires_at is not None:  # the plain job skips these
            self._check_features()

    def _check_features(self) -> None:
        if self.expires_in is not None and self.expires_at is not None:
            raise InvalidJob("give expires_in or expires_at, not both")
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise InvalidJob("expires_at must be an aware datetime (give it a tzinfo)")
        self._check_unique()
        self._check_parents()
        self._check_idempotency()

    def _check_given_id(self) -> None:
        try:
            version = uuid.UUID(str(self.id)).version
        except ValueError:
            version = None
        if version != 7 or len(str(self.id)) != 36:
            raise InvalidJob(
                f"job id {self.id} is not a hyphenated UUID v7: make it once (uuid7()) and keep it "
                "for the retries (its timestamp is the job's enqueue time, which orders it in its queue)")
        if self.is_unique:
            raise InvalidJob("a job with a given id (id) cannot also be unique (unique_for): a unique "
                             "job is deduplicated by its key")

    @property
    def is_unique(self) -> bool:
        """True when any uniqueness option is set (then ``unique_for`` must be)."""
        return self.unique_for is not None or self.unique_key is not None \
            or self.on_duplicate is not None

    def unique_ttl_ms(self) -> int:
        """The uniqueness lock's TTL, ms (checked)."""
        ms = delay_ms(self.unique_for or 0, "unique_for")
        if ms == 0:
            raise InvalidJob("unique_for must be at least one millisecond")
        if ms > MAX_UNIQUE_TTL_MS:
            raise InvalidJob(f"unique_for must be at most {MAX_UNIQUE_TTL_MS} ms")
        return ms

    def _check_unique(self) -> None:
        if not self.is_unique:
            return
        self.unique_ttl_ms()
        if (self.on_duplicate or "reject") not in UNIQUE_MODES:
            raise InvalidJob(f"on_duplicate must be one of {', '.join(UNIQUE_MODES)}")
        when, ms = self.when()
        if when == "in" and ms > MAX_UNIQUE_TTL_MS:
            raise InvalidJob(f"a unique job's delay must be at most {MAX_UNIQUE_TTL_MS} ms")

    def _check_parents(self) -> None:
        if self.on_parent_failure not in PARENT_FAILURE_POLICIES:
            raise InvalidJob(f"on_parent_failure must be one of {', '.join(PARENT_FAILURE_POLICIES)}")
        if not self.after:
            return
        if self.is_unique:
            raise InvalidJob("a job with parents (after) cannot also be unique")
        parents = distinct_parents(self.after)
        if len(parents) > MAX_PARENTS:
            raise InvalidJob(f"a job may wait for at most {MAX_PARENTS} parents")
        for queue, parent_id in parents:
            if queue is not None:
                try:
                    check_name("queue", queue)
                except ValueError as err:
                    raise InvalidJob(str(err)) from err
            try:
                uuid.UUID(parent_id)
            except ValueError as err:
                raise InvalidJob(f"parent id {parent_id!r} is not a UUID") from err

    def _check_idempotency(self) -> None:
        if self.idempotency_key is None:
            if self.idempotency_window is not None:
                raise InvalidJob("idempotency_window needs idempotency_key")
            return
        if not 1 <= len(self.idempotency_key.encode()) <= MAX_IDEMPOTENCY_KEY_BYTES:
            raise InvalidJob(f"an idempotency key is 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes")
        window = None if self.idempotency_window is None else delay_ms(self.idempotency_window,
                                                                      "idempotency_window")
        if window is None or not 1 <= window <= MAX_IDEMPOTENCY_WINDOW_MS:
            raise InvalidJob("an idempotency key's window (idempotency_window) is 1 ms to 30 days")
        if self.is_unique or self.after or self.dependents:
            raise InvalidJob("an idempotency key cannot go with unique_for, after or dependents")

    def envelope(self, job_id: str) -> Dict[str, Any]:
        """The envelope (without ``after``, added once the parents' queues
        are known), members holding their default left out."""
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
        if self.expires_in is not None:
            envelope["expires_at"] = time.time_ns() // 1_000_000 + delay_ms(self.expires_in, "expires_in")
        elif self.expires_at is not None:
            envelope["expires_at"] = int(self.expires_at.timestamp() * 1000)
        if self.track:
            envelope["track"] = True
        if self.dependents:
            envelope["dependents"] = True
        if self.flow_key is not None:
            envelope["flow"] = self.flow_key
        if self.tags:
            envelope["tags"] = list(dict.fromkeys(self.tags))
        return envelope


def check_flow_key(key: str) -> str:
    """Returns ``key`` if it is 1-200 printable ASCII characters without ``"`` or ``\\``."""
    if not (1 <= len(key) <= MAX_FLOW_KEY_LEN
            and all(" " <= c <= "~" and c not in '"\\' for c in key)):
        raise InvalidJob(f"flow key {key!r} must be 1-{MAX_FLOW_KEY_LEN} printable ASCII "
                         "characters without '\"' or '\\'")
    return key


def distinct_parents(parents: Sequence[Parent]) -> List[Tuple[Optional[str], str]]:
    """``(queue or None, id)`` per parent, repeats dropped, in the order given."""
    seen: Dict[str, Tuple[Optional[str], str]] = {}
    for parent in parents:
        queue, parent_id = (None, parent) if isinstance(parent, str) else parent
        seen.setdefault(parent_id.lower(), (queue, parent_id.lower()))
    return list(seen.values())


def sha1_hex(*parts: bytes) -> str:
    """The SHA-1 (lowercase hex) of ``parts`` joined by newlines."""
    return hashlib.sha1(b"\n".join(parts)).hexdigest()


@dataclass
class PreparedJob:
    """A job checked and encoded: its id, record and where it goes."""

    job: Job
    id: str
    payload: bytes
    envelope: Dict[str, Any]
    record: bytes
    when: Tuple[str, int]

    @property
    def given_id(self) -> bool:
        """Its producer chose the id."""
        return self.job.id is not None

    def unique_digest(self) -> str:
        """The uniqueness lock's digest, as the Rust client computes it."""
        if self.job.unique_key is not None:
            return sha1_hex(b"key", self.job.unique_key.encode())
        return sha1_hex(b"job", self.job.job_type.encode(), self.payload)

    def content_digest(self) -> str:
        """SHA-1 of ``<type>\\n<payload>``: what idempotency markers hold."""
        return sha1_hex(self.job.job_type.encode(), self.payload)

    def idempotency_key_digest(self) -> str:
        """The SHA-256 (hex) naming the idempotency key's marker."""
        return hashlib.sha256((self.job.idempotency_key or "").encode()).hexdigest()

    def with_parents(self, parents: List[Tuple[str, str]]) -> bytes:
        """The record with ``after`` (and a policy other than the default) added."""
        envelope = dict(self.envelope)
        envelope["after"] = [{"id": parent_id, "queue": queue} for queue, parent_id in parents]
        if self.job.on_parent_failure != "dead_letter":
            envelope["on_parent_failure"] = self.job.on_parent_failure
        return encode_record(envelope, self.payload)


def prepare(job: Job) -> PreparedJob:
    """Checks and encodes ``job`` (raises :class:`InvalidJob`)."""
    job.check()
    job_id = job.id.lower() if job.id else uuid7()
    try:
        payload = to_json(job.payload).encode()
    except (TypeError, ValueError) as err:
        raise InvalidJob(f"the payload of a {job.job_type} job is not JSON: {err}") from err
    envelope = job.envelope(job_id)
    prepared = PreparedJob(job, job_id, payload, envelope, b"", job.when())
    if job.is_unique:
        envelope["unique"] = prepared.unique_digest()
    prepared.record = encode_record(envelope, payload)
    return prepared
