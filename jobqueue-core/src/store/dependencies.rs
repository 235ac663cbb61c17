//! Job chains and fan-in: `parent_open.lua`, `link_child.lua`,
//! `enqueue_waiting.lua`, `release_child.lua`, and applying the release
//! outbox that `ack_parents.lua` and `bury.lua` fill.
//!
//! A parent and its dependents may live on different queues, so in
//! different Redis Cluster slots: no one script can see both. A parent's
//! end is therefore recorded on its own queue, atomically with the
//! outcome, as an outbox entry `<parent id>|<outcome>` in
//! `P:{Q}:releases`. Whoever applies an entry (the worker that wrote it,
//! right after; or any worker's sweeper, for entries a crashed worker
//! left) reads the parent's children from its parent hash, tells each
//! child's queue with the idempotent `release_child.lua`, and only then
//! removes the entry. A repeat counts nothing, so an entry can be applied
//! any number of times.

use redis::Value;
use uuid::Uuid;

use super::Store;
use super::enqueue::ScheduleAt;
use super::scripts::{Call, SCRIPTS, invoke_pipelined};
use crate::error::Error;
use crate::job::dependencies::{OnParentFailure, ParentState};
use crate::store::keys::QueueKeys;

/// Most outbox entries one sweep applies per queue.
pub const SWEEP_BATCH: usize = 100;

/// Where a job accepted with parents is right after its enqueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitingOutcome {
    /// In the waiting-for-parents place.
    Waiting,
    /// Every parent had already succeeded: made ready (or scheduled).
    Released,
    /// A parent had already died and the policy is
    /// [`OnParentFailure::DeadLetter`]: in the dead set.
    Dead,
    /// The job's producer gave its id and the same job was already
    /// enqueued under it: nothing was written.
    Exists,
}

/// What the enqueue of a job with parents sends to its queue.
pub(crate) struct WaitingEnqueue<'a> {
    pub(crate) record: &'a [u8],
    /// For a job whose producer gave its id: the idempotency window (ms)
    /// of its marker.
    pub(crate) id_window_ms: Option<u64>,
    pub(crate) policy: OnParentFailure,
    /// When it runs once released: `None` at once.
    pub(crate) at: Option<ScheduleAt>,
    /// Each parent's id and its state as `link_child.lua` read it.
    pub(crate) parents: &'a [(Uuid, ParentState)],
}

/// The keys `enqueue_waiting.lua` and `release_child.lua` take, in order.
fn waiting_keys(queue: &QueueKeys, job_id: &str) -> [String; 10] {
    [
        queue.waiting().to_owned(),
        queue.jobs().to_owned(),
        queue.deps(job_id),
        queue.ready().to_owned(),
        queue.priority().to_owned(),
        queue.scheduled().to_owned(),
        queue.dead().to_owned(),
        queue.stats().to_owned(),
        queue.parent(job_id),
        queue.releases(),
    ]
}

fn keys_call(script: &'static super::scripts::LuaScript, keys: &[String]) -> Call {
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    script.call(&keys)
}

/// The field naming one child in its parent's hash.
fn child_field(queue: &str, id: Uuid) -> String {
    format!("c|{queue}|{id}")
}

/// Splits an outbox entry `<parent id>|<outcome>`.
fn split_entry(entry: &str) -> Option<(&str, &str)> {
    entry.split_once('|')
}

impl Store {
    /// The `parent_open.lua` call that opens job `id`'s dependency record;
    /// sent before its enqueue, in the same round trip.
    pub(crate) fn parent_open_call(queue: &QueueKeys, id: Uuid, delay_ms: u64) -> Call {
        SCRIPTS
            .parent_open
            .call(&[&queue.parent(&id.to_string())])
            .arg(delay_ms)
    }

    /// Registers the child `child` (on `child_queue`) with each parent, on
    /// the parents' queues, in one round trip. Returns each parent's state;
    /// [`ParentState::Unknown`] for a parent without a dependency record.
    pub(crate) async fn link_children(
        &self,
        parents: &[(QueueKeys, Uuid)],
        child_queue: &str,
        child: Uuid,
    ) -> Result<Vec<ParentState>, Error> {
        const OP: &str = "link_child";
        let field = child_field(child_queue, child);
        let calls: Vec<Call> = parents
            .iter()
            .map(|(queue, id)| {
                SCRIPTS
                    .link_child
                    .call(&[&queue.parent(&id.to_string())])
                    .arg(field.as_str())
            })
            .collect();
        let replies = invoke_pipelined(&mut self.conn.clone(), &calls, OP).await?;
        Ok(replies
            .iter()
            .map(|reply| ParentState::parse(text_reply(reply).as_deref()))
            .collect())
    }

    /// Accepts a job with parents on its queue (`enqueue_waiting.lua`).
    pub(crate) async fn enqueue_waiting(
        &self,
        queue: &QueueKeys,
        job: &WaitingEnqueue<'_>,
    ) -> Result<WaitingOutcome, Error> {
        const OP: &str = "enqueue_waiting";
        let id = crate::wire::record::record_id(job.record)
            .ok_or_else(|| Error::invalid(OP, "the record carries no job id"))?;
        let id_text = id.to_string();
        let mut keys = waiting_keys(queue, &id_text).to_vec();
        if job.id_window_ms.is_some() {
            keys.push(queue.id_marker(&id_text));
        }
        let (dest, ms) = match job.at {
            None => ("now", 0),
            Some(ScheduleAt::In(ms)) => ("in", i64::try_from(ms).unwrap_or(i64::MAX)),
            Some(ScheduleAt::At(ms)) => ("at", ms),
        };
        let mut call = keys_call(&SCRIPTS.enqueue_waiting, &keys)
            .arg(queue.events())
            .arg(job.record)
            .arg(job.parents.len())
            .arg(job.policy.as_str())
            .arg(dest)
            .arg(ms)
            .arg(
                job.id_window_ms
                    .map(|ms| ms.to_string())
                    .unwrap_or_default(),
            );
        for (parent, state) in job.parents {
            call.push_arg(parent.to_string());
            call.push_arg(match state {
                ParentState::Succeeded => "succeeded",
                ParentState::Failed => "failed",
                ParentState::Pending | ParentState::Unknown => "pending",
            });
        }
        let reply: Value = call
            .invoke(&mut self.conn.clone(), OP)
            .await
            .map_err(|err| super::enqueue::refused_id(err, |_| Some(queue.name().to_owned())))?;
        match text_reply(&reply).as_deref() {
            Some("waiting") => Ok(WaitingOutcome::Waiting),
            Some("released") => Ok(WaitingOutcome::Released),
            Some("dead") => Ok(WaitingOutcome::Dead),
            Some("exists") => Ok(WaitingOutcome::Exists),
            Some("taken") => Err(Error::DuplicateId {
                op: "enqueue",
                queue: queue.name().to_owned(),
                id,
            }),
            other => Err(Error::protocol(OP, format!("unexpected reply {other:?}"))),
        }
    }

    /// Applies release outbox entries of `queue` (`<parent id>|<outcome>`,
    /// as `ack_parents.lua` and `bury.lua` return them): tells every child
    /// of each parent on its own queue, then removes the entries. Safe to
    /// repeat and to run concurrently. Returns how many children were told.
    pub async fn apply_releases(
        &self,
        queue: &QueueKeys,
        entries: &[String],
    ) -> Result<u64, Error> {
        const OP: &str = "apply_releases";
        if entries.is_empty() {
            return Ok(0);
        }
        let parsed: Vec<(&str, &str)> = entries.iter().filter_map(|e| split_entry(e)).collect();
        let mut pipe = redis::pipe();
        for (parent, _) in &parsed {
            pipe.hkeys(queue.parent(parent));
        }
        let children: Vec<Vec<String>> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        let mut calls = Vec::new();
        for ((parent, outcome), fields) in parsed.iter().zip(&children) {
            for field in fields {
                let Some((child_queue, child_id)) = field
                    .strip_prefix("c|")
                    .and_then(|rest| rest.rsplit_once('|'))
                else {
                    continue;
                };
                let Ok(child_keys) = self.queue_keys(child_queue) else {
                    tracing::warn!(parent, field, "skipping a child with an invalid queue name");
                    continue;
                };
                let keys = waiting_keys(&child_keys, child_id);
                calls.push(
                    keys_call(&SCRIPTS.release_child, &keys)
                        .arg(child_keys.events())
                        .arg(child_id)
                        .arg(*parent)
                        .arg(*outcome),
                );
            }
        }
        let told = calls.len() as u64;
        for chunk in calls.chunks(super::enqueue::MAX_RECORDS_PER_CALL) {
            invoke_pipelined(&mut self.conn.clone(), chunk, OP).await?;
        }
        redis::cmd("ZREM")
            .arg(queue.releases())
            .arg(entries)
            .query_async::<i64>(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        Ok(told)
    }

    /// The sweeper: applies up to [`SWEEP_BATCH`] entries of `queue`'s
    /// release outbox (left by a worker that died between recording a
    /// parent's end and telling its children). Returns how many entries
    /// it applied.
    pub async fn sweep_releases(&self, queue: &QueueKeys) -> Result<u64, Error> {
        let entries: Vec<String> = redis::cmd("ZRANGE")
            .arg(queue.releases())
            .arg(0)
            .arg(SWEEP_BATCH - 1)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("sweep_releases"))?;
        self.apply_releases(queue, &entries).await?;
        Ok(entries.len() as u64)
    }
}

/// A status or bulk-string reply as text; `None` for nil / false.
pub(crate) fn text_reply(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(text) => Some(text.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}
