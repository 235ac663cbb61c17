"""jobqueue_client: Python producer and asyncio worker for jobqueue.

Runs the same Lua scripts as the Rust crates (docs/protocol.md) against the
same Redis keys, so Rust and Python producers and workers share queues.
"""

__version__ = "0.1.0"

from .client import AsyncClient, Client  # noqa: E402
from .keys import InvalidName  # noqa: E402
from .producer import (DuplicateId, EnqueueError, EnqueueOutcome, IdempotencyConflict,  # noqa: E402
                       InvalidJob, Job, JobConflict, UnknownParent)
from .record import Backoff  # noqa: E402
from .status import JobStatus  # noqa: E402
from .worker import JobContext, PermanentError, Worker  # noqa: E402

__all__ = ["AsyncClient", "Backoff", "Client", "DuplicateId", "EnqueueError", "EnqueueOutcome",
           "IdempotencyConflict", "InvalidJob", "InvalidName", "Job", "JobConflict", "JobContext",
           "JobStatus", "PermanentError", "UnknownParent", "Worker", "__version__"]
