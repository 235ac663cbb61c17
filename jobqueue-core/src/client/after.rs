//! Enqueueing a job that waits for parents ([`JobBuilder::after`]).
//!
//! Two steps, because parents may live in other Redis Cluster slots:
//!
//! 1. on each parent's queue, `link_child.lua` adds the job to the
//!    parent's children and reads the parent's state (a parent that
//!    already succeeded counts at once; an unknown parent is an error and
//!    the job is not enqueued);
//! 2. on the job's queue, `enqueue_waiting.lua` puts it in the
//!    waiting-for-parents place with the states read in step 1, counting
//!    releases that arrived in between, and releases it at once if
//!    nothing is left to wait for.
//!
//! A producer that dies between the steps leaves only child entries that
//! name a job that never came; releasing them writes a small record that
//! expires.
//!
//! [`JobBuilder::after`]: crate::JobBuilder::after

use std::collections::HashSet;

use uuid::Uuid;

use crate::client::Client;
use crate::client::options::{JobOptions, ParentSpec};
use crate::client::prepared::{Destination, PreparedJob};
use crate::client::unique::UniqueOutcome;
use crate::error::Error;
use crate::job::dependencies::{MAX_PARENTS, OnParentFailure, ParentRef, ParentState};
use crate::store::ScheduleAt;
use crate::store::WaitingOutcome;
use crate::store::keys::QueueKeys;
use crate::store::ops::enqueue_waiting::WaitingEnqueue;
use crate::wire::record::{decode_record, encode_record};

const OP: &str = "enqueue";

/// Checks the dependency options of one enqueue.
pub(crate) fn validate_parents(options: &JobOptions) -> Result<(), Error> {
    if options.after.is_empty() {
        return Ok(());
    }
    if options.unique.is_some() {
        return Err(Error::invalid(
            OP,
            "a job with parents (after) cannot also be unique",
        ));
    }
    if distinct_parents(&options.after).len() > MAX_PARENTS {
        return Err(Error::invalid(
            OP,
            format!("a job may wait for at most {MAX_PARENTS} parents"),
        ));
    }
    for spec in &options.after {
        if let Some(queue) = &spec.queue {
            crate::store::keys::validate_queue_name(queue)?;
        }
    }
    Ok(())
}

/// The parents without repeats, in the order given.
pub(crate) fn distinct_parents(parents: &[ParentSpec]) -> Vec<ParentSpec> {
    let mut seen = HashSet::new();
    parents
        .iter()
        .filter(|spec| seen.insert(spec.id))
        .cloned()
        .collect()
}

/// Milliseconds until a job bound for `destination` runs (0: now).
pub(crate) fn delay_ms(destination: Destination) -> u64 {
    match destination {
        Destination::Scheduled(ScheduleAt::In(ms)) => ms,
        Destination::Scheduled(ScheduleAt::At(at)) => {
            let now = chrono::Utc::now().timestamp_millis();
            u64::try_from(at.saturating_sub(now)).unwrap_or(0)
        }
        Destination::Ready | Destination::Priority => 0,
    }
}

/// Each parent's own policy (in the order of `parents`) when some parent
/// was given one ([`ParentSpec::with_policy`]); `None` when the job's
/// policy covers them all.
fn edge_policies(
    specs: &[ParentSpec],
    parents: &[ParentRef],
    default: OnParentFailure,
) -> Option<Vec<OnParentFailure>> {
    if specs.iter().all(|spec| spec.policy.is_none()) {
        return None;
    }
    Some(
        parents
            .iter()
            .map(|parent| {
                specs
                    .iter()
                    .find(|spec| spec.id == parent.id)
                    .and_then(|spec| spec.policy)
                    .unwrap_or(default)
            })
            .collect(),
    )
}

fn unknown_parent(id: Uuid) -> Error {
    Error::invalid(
        OP,
        format!(
            "parent {id} is unknown: only a job enqueued with .with_dependents() can be a \
             parent, and only until 30 days after it finished"
        ),
    )
}

impl Client {
    /// Enqueues a prepared job that has parents (see the module docs).
    pub(crate) async fn send_waiting(&self, job: &PreparedJob) -> Result<UniqueOutcome, Error> {
        let queue = self.queue_keys(&job.queue).await?;
        let store = self.store();
        let parents = self.resolve_parents(&job.after).await?;
        let parent_keys = parents
            .iter()
            .map(|parent| Ok((store.queue_keys(&parent.queue)?, parent.id)))
            .collect::<Result<Vec<(QueueKeys, Uuid)>, Error>>()?;
        let states = store
            .link_children(&parent_keys, &job.queue, job.id)
            .await?;
        if let Some((parent, _)) = parents
            .iter()
            .zip(&states)
            .find(|(_, state)| **state == ParentState::Unknown)
        {
            return Err(unknown_parent(parent.id));
        }
        let (mut envelope, payload) = decode_record(&job.record)?;
        // A workflow's gate (workflow/enqueue.rs) is a parent of its roots
        // but no node's: it stays out of the job's parents.
        let gate = envelope.workflow.as_ref().map(|reference| reference.id);
        envelope.after = parents
            .iter()
            .filter(|parent| Some(parent.id) != gate)
            .cloned()
            .collect();
        envelope.on_parent_failure =
            (job.on_parent_failure != Default::default()).then_some(job.on_parent_failure);
        let record = encode_record(&envelope, payload)?;
        if job.dependents {
            // The job can itself be a parent (a link in a chain).
            store.open_parent(&queue, job.id, 0).await?;
        }
        let pairs: Vec<(Uuid, ParentState)> =
            parents.iter().map(|parent| parent.id).zip(states).collect();
        let edge_policies = edge_policies(&job.after, &parents, job.on_parent_failure);
        let at = match job.destination {
            Destination::Scheduled(at) => Some(at),
            Destination::Ready | Destination::Priority => None,
        };
        let id_window_ms = if job.given_id {
            Some(self.idempotency_window_ms()?)
        } else {
            None
        };
        let placed = store
            .enqueue_waiting(
                &queue,
                &WaitingEnqueue {
                    record: &record,
                    id_window_ms,
                    policy: job.on_parent_failure,
                    at,
                    parents: &pairs,
                    edge_policies: edge_policies.as_deref(),
                },
            )
            .await?;
        self.confirm_replicated(&queue).await?;
        Ok(match placed {
            WaitingOutcome::Exists => UniqueOutcome::Exists { existing: job.id },
            _ => UniqueOutcome::Enqueued { id: job.id },
        })
    }

    /// The queue of each parent: given, or found as the known queue that
    /// holds the parent's dependency record.
    async fn resolve_parents(&self, specs: &[ParentSpec]) -> Result<Vec<ParentRef>, Error> {
        let unknown: Vec<Uuid> = specs
            .iter()
            .filter(|spec| spec.queue.is_none())
            .map(|spec| spec.id)
            .collect();
        let mut found: Vec<(Uuid, String)> = Vec::new();
        if !unknown.is_empty() {
            let store = self.store();
            let names = store.queue_names().await?;
            let queues = names
                .iter()
                .map(|name| store.queue_keys(name))
                .collect::<Result<Vec<_>, _>>()?;
            let ids: Vec<String> = unknown.iter().map(Uuid::to_string).collect();
            let exists = store.parent_records_exist(&ids, &queues).await?;
            for (n, id) in unknown.iter().enumerate() {
                let row = &exists[n * names.len()..(n + 1) * names.len()];
                match row.iter().position(|&hit| hit) {
                    Some(index) => found.push((*id, names[index].clone())),
                    None => return Err(unknown_parent(*id)),
                }
            }
        }
        Ok(specs
            .iter()
            .filter_map(|spec| {
                let queue = match &spec.queue {
                    Some(queue) => queue.clone(),
                    None => found.iter().find(|(id, _)| *id == spec.id)?.1.clone(),
                };
                Some(ParentRef { id: spec.id, queue })
            })
            .collect())
    }
}
