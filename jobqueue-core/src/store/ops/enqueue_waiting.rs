//! `enqueue_waiting.lua`: accept a job that runs after its parents.

use uuid::Uuid;

use crate::job::dependencies::{OnParentFailure, ParentState};
use crate::store::ops::schedule::ScheduleAt;
use crate::store::waiting_keys::{keys_call, waiting_keys};
use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::text_reply;
use crate::store::scripts::SCRIPTS;

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
    /// A parent had already failed on an edge whose policy is
    /// [`OnParentFailure::Skip`]: the job was skipped, it never runs.
    Skipped,
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
    /// A policy per parent (in the order of `parents`), when some parent
    /// has its own (workflow edges): sent as policy `edges`.
    pub(crate) edge_policies: Option<&'a [OnParentFailure]>,
}

impl Store {
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
            .arg(match job.edge_policies {
                Some(_) => "edges",
                None => job.policy.as_str(),
            })
            .arg(dest)
            .arg(ms)
            .arg(
                job.id_window_ms
                    .map(|ms| ms.to_string())
                    .unwrap_or_default(),
            );
        for (n, (parent, state)) in job.parents.iter().enumerate() {
            call.push_arg(parent.to_string());
            call.push_arg(match state {
                ParentState::Succeeded => "succeeded",
                ParentState::Failed => "failed",
                ParentState::Pending | ParentState::Unknown => "pending",
            });
            if let Some(policies) = job.edge_policies {
                let policy = policies.get(n).copied().unwrap_or(job.policy);
                call.push_arg(policy.as_str());
            }
        }
        let reply: Value = call
            .invoke(&mut self.conn.clone(), OP)
            .await
            .map_err(|err| {
                crate::store::reply::refused_id(err, |_| Some(queue.name().to_owned()))
            })?;
        match text_reply(&reply).as_deref() {
            Some("waiting") => Ok(WaitingOutcome::Waiting),
            Some("released") => Ok(WaitingOutcome::Released),
            Some("dead") => Ok(WaitingOutcome::Dead),
            Some("skipped") => Ok(WaitingOutcome::Skipped),
            Some("exists") => Ok(WaitingOutcome::Exists),
            Some("taken") => Err(Error::DuplicateId {
                op: "enqueue",
                queue: queue.name().to_owned(),
                id,
            }),
            other => Err(Error::protocol(OP, format!("unexpected reply {other:?}"))),
        }
    }
}
