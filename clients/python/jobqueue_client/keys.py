"""Key names of one queue (docs/protocol.md, "Keys")."""

from __future__ import annotations

import re
from typing import List

NAME_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
PREFIX_RE = re.compile(r"^[^{}\s]{1,64}$")


class InvalidName(ValueError):
    """A queue, job type or prefix that breaks the naming rules."""


def check_name(what: str, name: str) -> str:
    """Returns ``name`` if it is 1-128 characters of ``A-Z a-z 0-9 _ - . :``."""
    if not NAME_RE.match(name):
        raise InvalidName(f"{what} {name!r} must be 1-128 characters of A-Z a-z 0-9 _ - . :")
    return name


def check_prefix(prefix: str) -> str:
    """Returns ``prefix`` if it is 1-64 characters without braces or whitespace."""
    if not PREFIX_RE.match(prefix):
        raise InvalidName(f"prefix {prefix!r} must be 1-64 characters without braces or whitespace")
    return prefix


class QueueKeys:
    """The keys of queue ``queue`` under ``prefix``; all share the ``{queue}`` hash tag."""

    def __init__(self, prefix: str, queue: str) -> None:
        self.queue = check_name("queue", queue)
        base = f"{prefix}:{{{queue}}}"
        self.base = base
        self.ready = f"{base}:ready"
        self.priority = f"{base}:priority"
        self.scheduled = f"{base}:scheduled"
        self.retry = f"{base}:retry"
        self.dead = f"{base}:dead"
        self.expired = f"{base}:expired"
        self.jobs = f"{base}:jobs"
        self.leases = f"{base}:leases"
        self.stats = f"{base}:stats"
        self.paused = f"{base}:paused"
        self.events = f"{base}:events"
        self.flow = f"{base}:flow"
        self.limits = f"{base}:limits"
        self.rate = f"{base}:rate"
        self.window = f"{base}:window"
        self.slotwait = f"{base}:slotwait"
        self.flow_ready = f"{base}:gready"
        self.flow_running = f"{base}:grun"
        self.flow_limits = f"{base}:glimits"
        self.waiting = f"{base}:waiting"
        self.releases = f"{base}:releases"

    def active(self, worker_id: str) -> str:
        """The active hash of worker ``worker_id``."""
        return f"{self.base}:active:{worker_id}"

    def id_marker(self, job_id: str) -> str:
        """The idempotency marker of a producer-given id."""
        return f"{self.base}:id:{job_id}"

    def status(self, job_id: str) -> str:
        """A tracked job's status hash."""
        return f"{self.base}:status:{job_id}"

    def unique(self, digest: str) -> str:
        """A uniqueness lock."""
        return f"{self.base}:unique:{digest}"

    def idempotency_key(self, key_digest: str) -> str:
        """The marker of an idempotency key (named by its SHA-256 hex)."""
        return f"{self.base}:idem:{key_digest}"

    def deps(self, job_id: str) -> str:
        """A waiting job's dependency state."""
        return f"{self.base}:deps:{job_id}"

    def parent(self, job_id: str) -> str:
        """The dependency record of a job enqueued with dependents."""
        return f"{self.base}:parent:{job_id}"

    def waiting_keys(self, job_id: str) -> List[str]:
        """The ten keys of include/deps.lua for job ``job_id`` (enqueue_waiting.lua,
        release_child.lua)."""
        return [self.waiting, self.jobs, self.deps(job_id), self.ready, self.priority,
                self.scheduled, self.dead, self.stats, self.parent(job_id), self.releases]
