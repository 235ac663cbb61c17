"""wait_event: a cancellation that comes with the wake-up is never lost
(the cause of a worker hanging in its shutdown)."""

import asyncio
import unittest

from jobqueue_client.waiting import wait_event


class WaitEventTests(unittest.IsolatedAsyncioTestCase):
    async def test_a_cancel_in_the_same_iteration_as_the_event_is_raised(self) -> None:
        event = asyncio.Event()
        waiting = asyncio.create_task(wait_event(event, 10.0))
        await asyncio.sleep(0)  # it waits now
        # Both in one loop iteration: the worker's shutdown cancelling its
        # promoter just as the subscription's first wake-up sets the event.
        event.set()
        waiting.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await waiting

    async def test_it_tells_a_set_event_from_a_timeout(self) -> None:
        event = asyncio.Event()
        self.assertFalse(await wait_event(event, 0.01))
        asyncio.get_running_loop().call_later(0.01, event.set)
        self.assertTrue(await wait_event(event, 5.0))
        self.assertTrue(await wait_event(event, 0.0))


if __name__ == "__main__":
    unittest.main()
