//! [`PreparedJob`]: a job encoded with its options, ready to send (alone
//! or in a bulk enqueue), and where it goes.

use uuid::Uuid;

use crate::client::options::ParentSpec;
use crate::client::unique::UniqueMode;
use crate::job::dependencies::OnParentFailure;

/// A job encoded and ready to send; see [`JobBuilder::prepare`](crate::JobBuilder::prepare).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedJob {
    pub(crate) id: Uuid,
    pub(crate) queue: String,
    pub(crate) record: Vec<u8>,
    pub(crate) destination: Destination,
    pub(crate) unique: Option<PreparedUnique>,
    /// Opens a dependency record for the job (it may get dependents).
    pub(crate) dependents: bool,
    /// The parents it waits for, and its policy; empty for most jobs.
    pub(crate) after: Vec<ParentSpec>,
    pub(crate) on_parent_failure: OnParentFailure,
    /// Its producer gave its id ([`JobBuilder::id`](crate::JobBuilder::id)): the enqueue claims
    /// the id's idempotency marker (`enqueue_with_id.lua`).
    pub(crate) given_id: bool,
    /// Its idempotency key, hashed, and window
    /// ([`JobBuilder::idempotency_key`](crate::JobBuilder::idempotency_key)):
    /// the enqueue goes through `enqueue_idempotent.lua`.
    pub(crate) idempotency: Option<PreparedIdempotency>,
    /// Tracked ([`JobBuilder::track`](crate::JobBuilder::track) or
    /// [`Job::TRACK`](crate::Job::TRACK)): it gets a status at enqueue.
    pub(crate) track: bool,
}

/// An idempotency key, resolved: SHA-256 (hex) of the key, window in ms,
/// and the SHA-1 (hex) of the job's type and payload it guards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedIdempotency {
    pub(crate) key_digest: String,
    pub(crate) window_ms: u64,
    pub(crate) content_digest: String,
}

/// A unique job's lock settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedUnique {
    pub(crate) digest: String,
    pub(crate) ttl_ms: u64,
    pub(crate) mode: UniqueMode,
}

impl PreparedJob {
    /// The job id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The queue it goes to.
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// The encoded record.
    pub fn record(&self) -> &[u8] {
        &self.record
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination {
    Ready,
    /// Through `enqueue_priority.lua`, which files prioritised and keyed
    /// jobs (`make_ready_all`).
    Priority,
    Scheduled(crate::store::ScheduleAt),
}
