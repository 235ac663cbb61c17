"""Reading a job's status (``P:{Q}:status:<id>``), as the Rust
``Client::status`` reads it (``jobqueue-core/src/client/status.rs``)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from .commands import Command
from .keys import QueueKeys

#: The states a status may hold (Rust: JobStatusState).
STATES = ("queued", "scheduled", "waiting", "running", "retrying", "succeeded", "dead",
          "cancelled", "expired")


@dataclass(frozen=True)
class JobStatus:
    """One job's status: ``state``, the latest progress (``percent`` and
    ``message``, ``stale`` when from an interrupted run), ``result`` (parsed
    JSON) and ``error``."""

    id: str
    state: str
    percent: Optional[int]
    message: Optional[str]
    stale: bool
    result: Any
    error: Optional[str]
    updated_at_ms: Optional[int]


def status_command(prefix: str, queue: str, job_id: str) -> Command:
    """The read of job ``job_id``'s status on ``queue``."""
    return Command("HGETALL", QueueKeys(prefix, queue).status(job_id))


def parse_status(job_id: str, reply: Dict[Any, Any]) -> Optional[JobStatus]:
    """The status in an ``HGETALL`` reply; None when there is none (unknown
    id, not tracked, past its TTL) or its state is not one of :data:`STATES`."""
    fields = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
              for k, v in reply.items()}
    state = fields.get("state")
    if state not in STATES:
        return None
    due = _int(fields.get("due"))
    if state == "scheduled" and due is not None and due <= time.time() * 1000:
        state = "queued"  # due: it waits for a worker like any ready job
    try:
        result = json.loads(fields["result"]) if "result" in fields else None
    except ValueError:
        result = None
    percent = _int(fields.get("percent"))
    return JobStatus(job_id, state, percent, fields.get("message") if percent is not None else None,
                     fields.get("stale") == "1", result, fields.get("error"),
                     _int(fields.get("updated_at")))


def _int(value: Optional[str]) -> Optional[int]:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
