"""The producer against a real Redis: what lands where, in which format."""

from __future__ import annotations

import datetime as dt
import json
import unittest
import uuid

import redis.asyncio

from jobqueue_client import AsyncClient, Backoff, Client, EnqueueError, Job
from support import REDIS_URL, RedisTestCase


class ProducerTests(RedisTestCase):
    def client(self) -> Client:
        return Client.from_url(REDIS_URL, prefix=self.prefix)

    def ready(self, queue: str = "default") -> list:
        return self.sync.lrange(f"{self.prefix}:{{{queue}}}:ready", 0, -1)

    def test_a_plain_job_is_one_compact_record_on_the_ready_list(self) -> None:
        job_id = self.client().enqueue("send_email", {"user_id": 7, "name": "Zoë"},
                                       max_attempts=5, timeout_ms=1000)
        (record,) = self.ready()
        self.assertEqual(uuid.UUID(job_id).version, 7)
        envelope, payload = record.split(b"\n", 1)
        self.assertEqual(envelope, (
            '{"id":"%s","type":"send_email","max_attempts":5,"timeout_ms":1000}' % job_id).encode())
        self.assertEqual(record[7:43].decode(), job_id)
        self.assertEqual(json.loads(payload), {"user_id": 7, "name": "Zoë"})
        self.assertEqual(self.sync.smembers(f"{self.prefix}:queues"), {b"default"})

    def test_priority_tags_delay_and_backoff_go_through_the_scripts(self) -> None:
        client = self.client()
        urgent = client.enqueue("t", {}, queue="q", priority=10)
        tagged = client.enqueue("t", {}, queue="q", tags=["customer:1", "customer:1"])
        later = client.enqueue("t", {}, queue="q", delay=dt.timedelta(hours=1),
                               backoff=Backoff.fixed(500))
        at = client.enqueue("t", {}, queue="q",
                            run_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
        base = f"{self.prefix}:{{q}}"
        self.assertEqual([m.decode()[7:43] for m in self.sync.zrange(f"{base}:priority", 0, -1)],
                         [urgent])
        self.assertEqual([r[7:43].decode() for r in self.ready("q")], [tagged])
        self.assertEqual(self.sync.zrange(f"{base}:tag:customer:1", 0, -1), [tagged.encode()])
        self.assertEqual({m.decode() for m in self.sync.zrange(f"{base}:scheduled", 0, -1)},
                         {later, at})
        stored = self.sync.hget(f"{base}:jobs", later)
        envelope = json.loads(stored.split(b"\n", 1)[0])
        self.assertEqual(envelope["backoff"], {"kind": "fixed", "delay_ms": 500, "jitter": 0.0})
        self.assertIn("run_at", envelope)

    def test_a_given_id_is_idempotent_and_refused_for_other_content(self) -> None:
        client = self.client()
        job_id = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9d"
        self.assertEqual(client.enqueue("t", {"n": 1}, id=job_id), job_id)
        self.assertEqual(client.enqueue("t", {"n": 1}, id=job_id), job_id)
        self.assertEqual(len(self.ready()), 1)
        with self.assertRaises(EnqueueError):
            client.enqueue("t", {"n": 2}, id=job_id)

    def test_bulk_enqueue_keeps_order_across_queues_and_kinds(self) -> None:
        jobs = [Job("t", {"n": n}, queue="a" if n % 2 else "b") for n in range(2500)]
        jobs.append(Job("t", {"n": "late"}, queue="a", delay=60))
        ids = self.client().enqueue_many(jobs)
        self.assertEqual(len(set(ids)), 2501)
        self.assertEqual([json.loads(r.split(b"\n")[1])["n"] for r in self.ready("a")],
                         list(range(1, 2500, 2)))
        self.assertEqual(len(self.ready("b")), 1250)
        self.assertEqual(self.sync.zcard(f"{self.prefix}:{{a}}:scheduled"), 1)

    def test_invalid_options_are_refused_before_anything_is_written(self) -> None:
        client = self.client()
        for options in ({"priority": 101}, {"queue": "no spaces"}, {"tags": [f"t{i}" for i in range(9)]},
                        {"delay": -1}, {"tags": ["bad\nline"]}, {"max_attempts": 0}):
            with self.subTest(options=options), self.assertRaises(EnqueueError):
                client.enqueue("t", {}, **options)
        self.assertEqual(self.sync.exists(f"{self.prefix}:queues"), 0)

    def test_the_first_push_on_an_empty_list_publishes_a_wake_up(self) -> None:
        pubsub = self.sync.pubsub()
        pubsub.subscribe(f"{self.prefix}:{{default}}:events")
        pubsub.get_message(timeout=1)
        client = self.client()
        client.enqueue_many([Job("t", {}), Job("t", {})])
        client.enqueue("t", {})
        message = pubsub.get_message(timeout=1)
        self.assertEqual(message and message["data"], b"r")
        self.assertIsNone(pubsub.get_message(timeout=0.2))
        pubsub.close()

    async def test_the_async_client_enqueues_the_same_way(self) -> None:
        client = AsyncClient(redis.asyncio.Redis.from_url(REDIS_URL), prefix=self.prefix)
        ids = await client.enqueue_many([Job("t", {"n": 1}), Job("t", {"n": 2}, priority=5)])
        self.assertEqual(len(self.ready()), 1)
        self.assertEqual(self.sync.zcard(f"{self.prefix}:{{default}}:priority"), 1)
        self.assertEqual(len(ids), 2)
        await client.close()

    def test_a_script_redis_does_not_know_is_loaded_and_the_call_repeated(self) -> None:
        # A copy of the scripts with one changed byte: a SHA Redis has never seen
        # (the shared Redis is never flushed), so the call meets NOSCRIPT first.
        import shutil
        import tempfile
        from pathlib import Path

        from jobqueue_client.scripts import Scripts, lua_dir
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "lua"
            shutil.copytree(lua_dir(), copy)
            source = copy / "enqueue_priority.lua"
            source.write_bytes(source.read_bytes() + f"-- {self.prefix}\n".encode())
            client = Client(self.sync, self.prefix, scripts=Scripts(copy))
            client.enqueue("t", {}, priority=1)
        self.assertEqual(self.sync.zcard(f"{self.prefix}:{{default}}:priority"), 1)


if __name__ == "__main__":
    unittest.main()
