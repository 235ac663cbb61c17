//! Enqueueing: a plain `RPUSH` for jobs that run now (one or a batch), and
//! the routing of every other new job to its script — `enqueue_priority.lua`,
//! `schedule.lua`, `enqueue_unique.lua`, `enqueue_with_id.lua` (jobs whose
//! producer gave their id), `enqueue_idempotent.lua` and
//! `enqueue_idempotent_ready.lua` (idempotency keys) and `parent_open.lua`
//! (in `ops/`).
//!
//! A job that runs now needs no script: appending a record to the ready
//! list is one `RPUSH`, as cheap as enqueueing gets in Redis (an `EVALSHA`
//! of even a two-line script costs Redis ~6 µs more per call; see
//! docs/benchmarks.md). Idle workers block on the ready list itself
//! (`store/ready_watch.rs`), which the push serves, and also wait for a
//! wake-up on the queue's events channel (for workers that do not watch,
//! and prioritised jobs) — so when the push made an empty list non-empty
//! (the reply equals the number of records pushed), the producer
//! publishes `r` on the channel. That publish is a hint, sent
//! without waiting for its reply: if it is lost, workers find the job at
//! their next idle poll. This is the whole enqueue contract for other
//! languages (docs/protocol.md).

use redis::{Cmd, Value};

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::ops::enqueue_idempotent::{
    KeyOutcome, KeyedEnqueue, idempotent_call, parse_idempotent_replies,
};
use crate::store::ops::enqueue_idempotent_ready::{ready_idempotent_call, takes_ready_path};
use crate::store::ops::enqueue_priority::enqueue_priority_call;
use crate::store::ops::enqueue_unique::{UniqueEnqueue, unique_call};
use crate::store::ops::enqueue_with_id::{IdEnqueue, with_id_call};
use crate::store::ops::schedule::{ScheduleAt, schedule_call};
use crate::store::reply::int_reply;
use crate::store::reply::refused_id;
use crate::store::scripts::{Call, invoke_pipelined};

/// One batch of records bound for one queue and one transition.
pub(crate) enum EnqueueCall<'a> {
    Ready(&'a QueueKeys, Vec<&'a [u8]>),
    Priority(&'a QueueKeys, Vec<&'a [u8]>),
    Scheduled(&'a QueueKeys, Vec<(&'a [u8], ScheduleAt)>),
    Unique(&'a QueueKeys, Vec<UniqueEnqueue<'a>>),
    /// Jobs whose producer gave their ids (`enqueue_with_id.lua`).
    WithId(&'a QueueKeys, Vec<IdEnqueue<'a>>),
    /// Jobs with idempotency keys (`enqueue_idempotent.lua`).
    Idempotent(&'a QueueKeys, Vec<KeyedEnqueue<'a>>),
    /// Opens the dependency record of a job that may get dependents
    /// (its id, ms until it runs), just before its enqueue.
    OpenParent(&'a QueueKeys, uuid::Uuid, u64),
}

impl EnqueueCall<'_> {
    /// The command; `window_ms` is the idempotency window of given ids.
    fn call(&self, window_ms: u64) -> Call {
        match self {
            EnqueueCall::Ready(q, records) => {
                let mut cmd = Cmd::new();
                cmd.arg("RPUSH").arg(q.ready());
                for record in records {
                    cmd.arg(*record);
                }
                Call::command(cmd)
            }
            EnqueueCall::Priority(q, records) => enqueue_priority_call(q, records),
            EnqueueCall::Scheduled(q, items) => schedule_call(q, items),
            EnqueueCall::Unique(q, jobs) => unique_call(q, jobs),
            EnqueueCall::WithId(q, jobs) => with_id_call(q, jobs, window_ms),
            EnqueueCall::Idempotent(q, jobs) => idempotent_call(q, jobs, window_ms),
            EnqueueCall::OpenParent(q, id, delay_ms) => Store::parent_open_call(q, *id, *delay_ms),
        }
    }

    /// For a plain push whose reply shows the list was empty before: the
    /// queue whose idle workers must be woken.
    fn queue_to_wake<'q>(&'q self, reply: &Value) -> Option<&'q QueueKeys> {
        match self {
            EnqueueCall::Ready(q, records) => {
                let length = int_reply(reply, "enqueue").ok()?;
                (usize::try_from(length).ok()? == records.len()).then_some(*q)
            }
            _ => None,
        }
    }

    /// The queue of this call's job with id `id`, if it has one.
    fn queue_of(&self, id: uuid::Uuid) -> Option<&QueueKeys> {
        let holds = |record: &[u8]| crate::wire::record::record_id(record) == Some(id);
        match self {
            EnqueueCall::Ready(q, records) | EnqueueCall::Priority(q, records) => {
                records.iter().any(|r| holds(r)).then_some(*q)
            }
            EnqueueCall::Scheduled(q, items) => items.iter().any(|(r, _)| holds(r)).then_some(*q),
            EnqueueCall::Unique(q, jobs) => jobs.iter().any(|j| holds(j.record)).then_some(*q),
            EnqueueCall::WithId(q, jobs) => jobs.iter().any(|j| j.id == id).then_some(*q),
            EnqueueCall::Idempotent(q, jobs) => jobs.iter().any(|j| j.job.id == id).then_some(*q),
            EnqueueCall::OpenParent(..) => None,
        }
    }
}

impl Store {
    /// Appends one record to a queue's ready list (FIFO), waking idle
    /// workers when the queue was empty. Returns the new length.
    pub async fn enqueue_ready(&self, queue: &QueueKeys, record: &[u8]) -> Result<i64, Error> {
        let mut push = redis::cmd("RPUSH");
        push.arg(queue.ready()).arg(record);
        let reply = self
            .conn
            .query_direct(&push)
            .await
            .map_err(Error::redis("enqueue"))?;
        let length = int_reply(&reply, "enqueue")?;
        if length == 1 {
            self.wake_idle_workers(queue);
        }
        Ok(length)
    }

    /// Enqueues one job under its idempotency key, in one call over the
    /// direct lane when it is free (its reply, `{status, id}`, is short:
    /// it does not queue behind the shared multiplexed connection, as a
    /// plain single enqueue's `RPUSH` does not): `enqueue_idempotent_ready.lua`
    /// for a plain job that runs now with a generated id, else
    /// `enqueue_idempotent.lua`. Returns its outcome.
    pub(crate) async fn enqueue_idempotent(
        &self,
        queue: &QueueKeys,
        job: &KeyedEnqueue<'_>,
        id_window_ms: u64,
    ) -> Result<KeyOutcome, Error> {
        let call = if takes_ready_path(job) {
            ready_idempotent_call(queue, job)
        } else {
            idempotent_call(queue, std::slice::from_ref(job), id_window_ms)
        };
        let reply = call.invoke_direct(&self.conn, "enqueue").await?;
        parse_idempotent_replies(reply)?
            .pop()
            .ok_or_else(|| Error::protocol("enqueue_idempotent", "no outcome for the job"))
    }

    /// Sends many enqueue calls in one round trip; returns their replies.
    /// `window_ms` is the idempotency window of jobs with given ids.
    pub(crate) async fn enqueue_pipelined(
        &self,
        calls: &[EnqueueCall<'_>],
        window_ms: u64,
    ) -> Result<Vec<Value>, Error> {
        let packed: Vec<Call> = calls.iter().map(|call| call.call(window_ms)).collect();
        let replies = invoke_pipelined(&mut self.conn.clone(), &packed, "enqueue_bulk")
            .await
            .map_err(|err| {
                refused_id(err, |id| {
                    calls
                        .iter()
                        .find_map(|call| call.queue_of(id))
                        .map(|q| q.name().to_owned())
                })
            })?;
        for (call, reply) in calls.iter().zip(&replies) {
            if let Some(queue) = call.queue_to_wake(reply) {
                self.wake_idle_workers(queue);
            }
        }
        Ok(replies)
    }

    /// Publishes the "work arrived" wake-up for `queue` without waiting
    /// for the reply (the job is already safely enqueued; a lost wake-up
    /// only delays it until the workers' idle poll).
    fn wake_idle_workers(&self, queue: &QueueKeys) {
        let mut conn = self.conn.clone();
        let channel = queue.events().to_owned();
        let publish = async move {
            let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                .arg(&channel)
                .arg("r")
                .query_async(&mut conn)
                .await;
            if let Err(err) = sent {
                tracing::debug!(channel, error = %err, "wake-up publish failed; workers poll");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(publish);
            }
            Err(_) => tracing::debug!("no runtime to publish the wake-up on; workers poll"),
        }
    }
}
