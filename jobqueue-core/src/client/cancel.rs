//! Cancelling jobs: the operator API ([`Admin::cancel`]) and the client
//! shorthand ([`Client::cancel`]).
//!
//! A waiting job (ready, scheduled, retry) is removed and never runs. A
//! leased job is taken out of its worker's active hash and the worker is
//! told over the queue's events channel; the job's
//! [`crate::JobContext::cancellation_token`] fires within a second in
//! whichever process runs it, and a job that ignores it is dropped shortly
//! after. Either way the job ends in the queue's cancelled set (bounded;
//! listed by [`Admin::list_cancelled`]).

use chrono::Utc;
use serde::Serialize;
use uuid::Uuid;

use crate::admin::Admin;
use crate::client::Client;
use crate::client::status::{DEFAULT_STATUS_TTL, JobStatusState, millis};
use crate::error::Error;
use crate::store::keys::QueueKeys;
pub use crate::store::ops::cancel::CancelledFrom;

/// How many times a cancel looks again when the job moves between the
/// caller's look and the script (e.g. fetched just then).
const MAX_LOOKS: usize = 3;

/// What [`Admin::cancel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum CancelOutcome {
    /// The job was cancelled; `from` says where it was.
    Cancelled {
        /// Where the job was.
        from: CancelledFrom,
    },
    /// No waiting or running job has this id on the queue (finished, dead,
    /// already cancelled, or never enqueued there).
    NotFound,
}

impl Admin {
    /// Cancels job `id` of `queue`: a waiting job never runs, a running
    /// one has its cancellation token fired in its worker.
    pub async fn cancel(&self, queue: &str, id: Uuid) -> Result<CancelOutcome, Error> {
        let store = self.store();
        let keys = store.queue_keys(queue)?;
        for _ in 0..MAX_LOOKS {
            if let Some(from) = store.cancel_once(&keys, id, None).await? {
                return self.cancelled(&keys, id, from).await;
            }
            let Some(record) = store.find_ready_record(&keys, id).await? else {
                return Ok(CancelOutcome::NotFound);
            };
            if let Some(from) = store.cancel_once(&keys, id, Some(&record)).await? {
                return self.cancelled(&keys, id, from).await;
            }
            // It left the ready list between the scan and the script
            // (most likely fetched): look again.
        }
        Ok(CancelOutcome::NotFound)
    }

    /// A job was cancelled: a tracked job's status says so (a cancelled
    /// job never runs again, so no later transition can race this write).
    pub(crate) async fn cancelled(
        &self,
        keys: &QueueKeys,
        id: Uuid,
        from: CancelledFrom,
    ) -> Result<CancelOutcome, Error> {
        let state = JobStatusState::Cancelled.as_str();
        let ttl_ms = millis(DEFAULT_STATUS_TTL);
        let now = Utc::now().timestamp_millis().to_string();
        let written = self
            .store()
            .update_status(keys, &id.to_string(), &now, &[("state", state)], ttl_ms)
            .await;
        if let Err(err) = written {
            tracing::debug!(error = %err, "could not mark the cancelled job's status");
        }
        Ok(CancelOutcome::Cancelled { from })
    }
}

impl Client {
    /// Cancels job `id` of `queue`; see [`Admin::cancel`].
    pub async fn cancel(&self, queue: &str, id: Uuid) -> Result<CancelOutcome, Error> {
        self.admin().cancel(queue, id).await
    }
}
