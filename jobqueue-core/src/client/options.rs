//! What a producer can ask of one job: [`JobOptions`] (queue, priority,
//! attempts, backoff, timeout, when it runs, uniqueness, expiry, tracking,
//! parents, flow key, id, tags), set through [`crate::JobBuilder`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::client::unique::UniqueOptions;
use crate::job::backoff::BackoffPolicy;
use crate::job::dependencies::{OnParentFailure, ParentRef};

/// When a job should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAt {
    /// As soon as a worker is free.
    Now,
    /// After this delay (measured on the Redis clock).
    In(Duration),
    /// At this instant (compared with the Redis clock).
    At(DateTime<Utc>),
}

/// Options of one enqueue; unset options fall back to the job type's constants.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOptions {
    /// Queue name.
    pub queue: Option<String>,
    /// Priority within the queue (higher first); default 0.
    pub priority: i16,
    /// Most attempts, first run included.
    pub max_attempts: Option<u32>,
    /// Backoff policy for retries.
    pub backoff: Option<BackoffPolicy>,
    /// Time limit of one run; `Some(None)` means no limit.
    pub timeout: Option<Option<Duration>>,
    /// When to run.
    pub run_at: RunAt,
    /// Uniqueness; `None` for an ordinary job.
    pub unique: Option<UniqueOptions>,
    /// Not started by then → dropped as expired; `None`: never expires.
    pub expires: Option<Expiry>,
    /// Keep a status (final state, result) even if the job reports none.
    pub track: bool,
    /// Flow key (`class:value`); `None` takes [`Job::flow_key`](crate::Job::flow_key).
    pub flow_key: Option<String>,
    /// W3C `traceparent` of the producer's trace, carried to the job's span
    /// (see [`crate::wire::trace_context`]); `None` takes the current span's
    /// context when the `opentelemetry` feature is on.
    pub traceparent: Option<String>,
    /// The job may get dependents ([`JobBuilder::after`](crate::JobBuilder::after) naming it): its
    /// end is recorded for them.
    pub dependents: bool,
    /// Parents: the job waits until they succeeded (`None` in a parent's
    /// queue means "look it up").
    pub after: Vec<ParentSpec>,
    /// What a parent's death does to this job.
    pub on_parent_failure: OnParentFailure,
    /// The job's id, given by the producer ([`JobBuilder::id`](crate::JobBuilder::id)); `None`
    /// gives it a fresh one.
    pub id: Option<Uuid>,
    /// Idempotency key ([`JobBuilder::idempotency_key`](crate::JobBuilder::idempotency_key));
    /// `None` for an ordinary job.
    pub idempotency: Option<IdempotencyKey>,
    /// Tags ([`JobBuilder::tags`](crate::JobBuilder::tags)), checked by
    /// [`crate::job::tags::validate_tags`] at enqueue; empty for most jobs.
    pub tags: Vec<String>,
}

/// An idempotency key and how long it holds: within `window`, enqueues
/// with the same key return the first job (same type and payload) or are
/// refused (different), even after that job finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key, scoped to the queue (e.g. the client's request id).
    pub key: String,
    /// How long the key holds, from the first enqueue.
    pub window: Duration,
}

/// A parent named by [`JobBuilder::after`](crate::JobBuilder::after): its id, and its queue when
/// the producer knows it (saves a lookup over the known queues).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentSpec {
    /// The parent's job id.
    pub id: Uuid,
    /// The parent's queue, if known.
    pub queue: Option<String>,
    /// What this parent's death does to the job (the edge's policy);
    /// `None` takes the job's [`JobOptions::on_parent_failure`].
    pub policy: Option<OnParentFailure>,
}

impl ParentSpec {
    /// This parent with its own failure policy (the edge's policy, as
    /// workflows set it).
    pub fn with_policy(mut self, policy: OnParentFailure) -> Self {
        self.policy = Some(policy);
        self
    }
}

impl From<Uuid> for ParentSpec {
    fn from(id: Uuid) -> Self {
        Self {
            id,
            queue: None,
            policy: None,
        }
    }
}

impl From<ParentRef> for ParentSpec {
    fn from(parent: ParentRef) -> Self {
        Self {
            id: parent.id,
            queue: Some(parent.queue),
            policy: None,
        }
    }
}

impl<Q: Into<String>> From<(Q, Uuid)> for ParentSpec {
    fn from((queue, id): (Q, Uuid)) -> Self {
        Self {
            id,
            queue: Some(queue.into()),
            policy: None,
        }
    }
}

/// When a job that has not started is dropped instead of run late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// This long after the enqueue (the producer's clock).
    In(Duration),
    /// At this instant.
    At(DateTime<Utc>),
}

impl Default for JobOptions {
    fn default() -> Self {
        Self {
            queue: None,
            priority: 0,
            max_attempts: None,
            backoff: None,
            timeout: None,
            run_at: RunAt::Now,
            unique: None,
            expires: None,
            track: false,
            flow_key: None,
            traceparent: None,
            dependents: false,
            after: Vec::new(),
            on_parent_failure: OnParentFailure::DeadLetter,
            id: None,
            idempotency: None,
            tags: Vec::new(),
        }
    }
}
