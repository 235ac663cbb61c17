"""Shared test helpers: a unique key prefix per test on a real Redis."""

from __future__ import annotations

import os
import secrets
import unittest
from typing import Any

import redis

REDIS_URL = os.environ.get("JOBQUEUE_TEST_REDIS_URL", "redis://127.0.0.1:6379")


async def close_async(conn: Any) -> None:
    """Closes an asyncio client (``aclose`` from redis-py 5, ``close`` before)."""
    await (conn.aclose() if hasattr(conn, "aclose") else conn.close())


class RedisTestCase(unittest.IsolatedAsyncioTestCase):
    """Gives each test ``self.prefix`` (unique) and deletes its keys afterwards."""

    def setUp(self) -> None:
        self.prefix = f"pyclient-{secrets.token_hex(6)}"
        self.sync = redis.Redis.from_url(REDIS_URL)

    def tearDown(self) -> None:
        keys = list(self.sync.scan_iter(match=f"{self.prefix}:*", count=1000))
        if keys:
            self.sync.delete(*keys)
        self.sync.close()
