"""jobqueue_client: Python producer and asyncio worker for jobqueue.

Runs the same Lua scripts as the Rust crates (docs/protocol.md) against the
same Redis keys, so Rust and Python producers and workers share queues.
"""

__version__ = "0.1.0"

from .client import AsyncClient, Client  # noqa: E402
from .keys import InvalidName  # noqa: E402
from .producer import EnqueueError, Job  # noqa: E402
from .record import Backoff  # noqa: E402
from .worker import JobContext, PermanentError, Worker  # noqa: E402

__all__ = ["AsyncClient", "Backoff", "Client", "EnqueueError", "InvalidName", "Job",
           "JobContext", "PermanentError", "Worker", "__version__"]
