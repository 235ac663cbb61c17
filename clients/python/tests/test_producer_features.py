"""The producer's feature options against a real Redis: unique jobs,
idempotency keys, flow keys, expiry, dependents and chains."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import unittest

import redis.asyncio

from jobqueue_client import (AsyncClient, Client, DuplicateId, IdempotencyConflict, InvalidJob, Job,
                             UnknownParent)
from jobqueue_client.record import uuid7
from support import REDIS_URL, RedisTestCase, close_async


class ProducerFeatureTests(RedisTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client = Client.from_url(REDIS_URL, prefix=self.prefix)
        self.base = f"{self.prefix}:{{default}}"

    def tearDown(self) -> None:
        self.client.close()
        super().tearDown()

    def envelope_of(self, record: bytes) -> dict:
        return json.loads(record.split(b"\n", 1)[0])

    def stored_envelope(self, job_id: str, queue: str = "default") -> dict:
        record = self.sync.hget(f"{self.prefix}:{{{queue}}}:jobs", job_id)
        self.assertIsNotNone(record, f"job {job_id} is not in the jobs hash")
        return self.envelope_of(record)

    # -- unique jobs ---------------------------------------------------------

    def test_a_unique_job_takes_the_lock_and_a_duplicate_gets_the_holder(self) -> None:
        first = self.client.enqueue_unique("reindex", {"account": 7}, unique_for=60)
        again = self.client.enqueue_unique("reindex", {"account": 7}, unique_for=60)
        other = self.client.enqueue_unique("reindex", {"account": 8}, unique_for=60)
        self.assertEqual(first.status, "enqueued")
        self.assertEqual((again.status, again.id, again.duplicate), ("duplicate", first.id, True))
        self.assertEqual(other.status, "enqueued")
        (record, _) = self.sync.lrange(f"{self.base}:ready", 0, -1)
        digest = hashlib.sha1(b'job\nreindex\n{"account":7}').hexdigest()
        self.assertEqual(self.envelope_of(record)["unique"], digest)
        self.assertEqual(self.sync.get(f"{self.base}:unique:{digest}").decode(), first.id)
        self.assertLessEqual(self.sync.pttl(f"{self.base}:unique:{digest}"), 60_000)
        # enqueue() answers with the id of the job standing for it
        self.assertEqual(self.client.enqueue("reindex", {"account": 7}, unique_for=60), first.id)

    def test_a_unique_key_and_debounce_push_a_scheduled_holder_back(self) -> None:
        first = self.client.enqueue_unique("reindex", {"n": 1}, unique_for=600, unique_key="acct:7",
                                           delay=10)
        later = self.client.enqueue_unique("reindex", {"n": 2}, unique_for=600, unique_key="acct:7",
                                           delay=30, on_duplicate="debounce")
        self.assertEqual((later.status, later.id), ("debounced", first.id))
        due = self.sync.zscore(f"{self.base}:scheduled", first.id)
        self.assertGreater(due, time.time() * 1000 + 25_000)
        replaced = self.client.enqueue_unique("reindex", {"n": 3}, unique_for=600, unique_key="acct:7",
                                              delay=5, on_duplicate="replace")
        self.assertEqual((replaced.status, replaced.replaced), ("replaced", first.id))
        self.assertEqual([m.decode() for m in self.sync.zrange(f"{self.base}:scheduled", 0, -1)],
                         [replaced.id])
        digest = hashlib.sha1(b"key\nacct:7").hexdigest()
        self.assertEqual(self.stored_envelope(replaced.id)["unique"], digest)

    def test_unique_jobs_in_one_bulk_call_see_each_other(self) -> None:
        outcomes = self.client.enqueue_outcomes(
            [Job("t", {"n": n % 2}, unique_for=dt.timedelta(minutes=1)) for n in range(4)])
        self.assertEqual([o.status for o in outcomes], ["enqueued", "enqueued", "duplicate", "duplicate"])
        self.assertEqual(outcomes[2].id, outcomes[0].id)
        self.assertEqual(self.sync.llen(f"{self.base}:ready"), 2)

    # -- idempotency keys ----------------------------------------------------

    def test_an_idempotency_key_returns_the_first_job_or_refuses_other_content(self) -> None:
        first = self.client.enqueue_unique("charge", {"order": 1}, idempotency_key="checkout-7f3a",
                                           idempotency_window=3600)
        again = self.client.enqueue_unique("charge", {"order": 1}, idempotency_key="checkout-7f3a",
                                           idempotency_window=3600)
        self.assertEqual((first.status, again.status, again.id), ("enqueued", "exists", first.id))
        with self.assertRaises(IdempotencyConflict) as refused:
            self.client.enqueue("charge", {"order": 2}, idempotency_key="checkout-7f3a",
                                idempotency_window=3600)
        self.assertEqual(refused.exception.job_id, first.id)
        key = hashlib.sha256(b"checkout-7f3a").hexdigest()
        content = hashlib.sha1(b'charge\n{"order":1}').hexdigest()
        self.assertEqual(self.sync.get(f"{self.base}:idem:{key}").decode(), f"{first.id} {content}")
        self.assertEqual(self.sync.llen(f"{self.base}:ready"), 1)

    def test_a_given_id_held_by_another_job_is_a_duplicate_id(self) -> None:
        job_id = uuid7()
        self.client.enqueue("t", {"n": 1}, id=job_id, delay=60)
        with self.assertRaises(DuplicateId) as refused:
            self.client.enqueue("t", {"n": 2}, id=job_id, delay=60)
        self.assertEqual(refused.exception.job_id, job_id)

    # -- flow keys and expiry ------------------------------------------------

    def test_a_keyed_job_waits_in_its_keys_list(self) -> None:
        job_id = self.client.enqueue("sync", {"a": 1}, flow_key="account:42")
        self.assertEqual(self.sync.llen(f"{self.base}:ready"), 0)
        self.assertEqual(self.sync.exists(f"{self.base}:flow"), 1)
        self.assertEqual(self.sync.lrange(f"{self.base}:g:account:42", 0, -1), [job_id.encode()])
        self.assertEqual(self.stored_envelope(job_id)["flow"], "account:42")

    def test_expires_in_writes_expires_at(self) -> None:
        before = int(time.time() * 1000)
        self.client.enqueue("otp", {}, expires_in=dt.timedelta(seconds=30))
        (record,) = self.sync.lrange(f"{self.base}:ready", 0, -1)
        expires_at = self.envelope_of(record)["expires_at"]
        self.assertTrue(before + 30_000 <= expires_at <= int(time.time() * 1000) + 30_000)

    # -- dependents and chains -----------------------------------------------

    def test_a_job_after_a_pending_parent_waits_and_a_chain_links_each_job(self) -> None:
        parent = self.client.enqueue("fetch", {"day": 1}, queue="slow", dependents=True)
        self.assertEqual(self.sync.hget(f"{self.prefix}:{{slow}}:parent:{parent}", "state"), b"pending")
        child = self.client.enqueue("report", {"day": 1}, after=[parent], on_parent_failure="skip")
        self.assertEqual(self.sync.zscore(f"{self.base}:waiting", child) is not None, True)
        envelope = self.stored_envelope(child)
        self.assertEqual(envelope["after"], [{"id": parent, "queue": "slow"}])
        self.assertEqual(envelope["on_parent_failure"], "skip")
        self.assertEqual(self.sync.hkeys(f"{self.prefix}:{{slow}}:parent:{parent}"),
                         [b"state", f"c|default|{child}".encode()])
        ids = self.client.chain([Job("step", {"n": n}) for n in range(3)])
        self.assertEqual(self.sync.llen(f"{self.base}:ready"), 1)
        self.assertEqual(self.sync.zcard(f"{self.base}:waiting"), 3)  # child + two links
        self.assertEqual(self.stored_envelope(ids[2])["after"], [{"id": ids[1], "queue": "default"}])
        self.assertTrue(self.stored_envelope(ids[1])["dependents"])

    def test_an_unknown_parent_refuses_the_job_and_writes_nothing_for_it(self) -> None:
        outcomes = self.client.enqueue_outcomes([Job("t", {}), Job("t", {}, after=[uuid7()])])
        self.assertEqual(outcomes[0].status, "enqueued")
        self.assertIsInstance(outcomes[1], UnknownParent)
        self.assertEqual(self.sync.zcard(f"{self.base}:waiting"), 0)
        with self.assertRaises(UnknownParent):
            self.client.enqueue("t", {}, after=[("default", uuid7())])

    # -- refusals ------------------------------------------------------------

    def test_options_rust_refuses_are_refused_before_anything_is_written(self) -> None:
        parent = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9d"
        for options in ({"unique_key": "k"}, {"unique_for": 0}, {"unique_for": 1, "on_duplicate": "x"},
                        {"unique_for": 1, "id": uuid7()}, {"unique_for": 1, "after": [parent]},
                        {"idempotency_key": "k"}, {"idempotency_key": "", "idempotency_window": 1},
                        {"idempotency_key": "k", "idempotency_window": 1, "dependents": True},
                        {"idempotency_key": "k", "idempotency_window": 31 * 86400},
                        {"flow_key": ""}, {"flow_key": 'a"b'}, {"flow_key": "x" * 201},
                        {"on_parent_failure": "explode"}, {"after": ["not-a-uuid"]},
                        {"id": "00000000-0000-4000-8000-000000000000"}, {"expires_in": -1}):
            with self.subTest(options=options), self.assertRaises(InvalidJob):
                self.client.enqueue("t", {}, **options)
        self.assertEqual(self.sync.exists(f"{self.prefix}:queues"), 0)

    async def test_the_async_client_has_the_same_features(self) -> None:
        client = AsyncClient(redis.asyncio.Redis.from_url(REDIS_URL), prefix=self.prefix)
        try:
            first = await client.enqueue_unique("t", {"n": 1}, unique_for=60)
            again = await client.enqueue_unique("t", {"n": 1}, unique_for=60)
            self.assertEqual((again.status, again.id), ("duplicate", first.id))
            ids = await client.chain([Job("t", {"n": 2}), Job("t", {"n": 3})])
            self.assertEqual(self.stored_envelope(ids[1])["after"], [{"id": ids[0], "queue": "default"}])
            with self.assertRaises(UnknownParent):
                await client.enqueue("t", {}, after=[uuid7()])
        finally:
            await close_async(client.redis)


if __name__ == "__main__":
    unittest.main()
