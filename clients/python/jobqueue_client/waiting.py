"""Waiting for an :class:`asyncio.Event` with a time limit, without losing a
cancellation.

``asyncio.wait_for(event.wait(), timeout)`` on Python 3.11 and older returns
the event's result when the event is set in the same loop iteration as the
waiting task is cancelled, and the cancellation is lost (CPython issue
gh-86296, fixed by 3.12's rewrite of ``wait_for``). A worker loop that
waited that way and was cancelled at shutdown just as a wake-up arrived
went on looping, and the worker hung in its shutdown: one SIGTERM in about
fifteen, sent right after start (the subscription's first wake-up).
:func:`wait_event` waits with :func:`asyncio.wait`, which never swallows a
cancellation.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Waits until ``event`` is set or ``timeout`` seconds pass; True when it
    was set. A cancellation of the caller is always raised."""
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=max(0.0, timeout))
    finally:
        waiter.cancel()
    return bool(done)
