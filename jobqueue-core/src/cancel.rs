//! Cancelling jobs: the operator API ([`Admin::cancel`]) and the client
//! shorthand ([`Client::cancel`]).
//!
//! A waiting job (ready, scheduled, retry) is removed and never runs. A
//! leased job is taken out of its worker's active hash and the worker is
//! told over the queue's events channel; the job's
//! [`crate::JobContext::cancellation_token`] fires within a second in
//! whichever process runs it, and a job that ignores it is dropped shortly
//! after. Either way the job ends in the queue's cancelled set (bounded:
//! [`MAX_CANCELLED_KEPT`] jobs, [`MAX_CANCELLED_AGE_MS`]).

use serde::Serialize;
use uuid::Uuid;

use crate::admin::{Admin, JobInfo, JobState};
use crate::client::Client;
use crate::error::Error;
pub use crate::store::cancel::{CancelledFrom, MAX_CANCELLED_AGE_MS, MAX_CANCELLED_KEPT};

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
                return Ok(CancelOutcome::Cancelled { from });
            }
            let Some(record) = store.find_ready_record(&keys, id).await? else {
                return Ok(CancelOutcome::NotFound);
            };
            if let Some(from) = store.cancel_once(&keys, id, Some(&record)).await? {
                return Ok(CancelOutcome::Cancelled { from });
            }
            // It left the ready list between the scan and the script
            // (most likely fetched): look again.
        }
        Ok(CancelOutcome::NotFound)
    }

    /// One page of a queue's cancelled jobs, most recent first.
    pub async fn list_cancelled(
        &self,
        queue: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        const OP: &str = "list_cancelled";
        let keys = self.store().queue_keys(queue)?;
        let limit = limit.clamp(1, 1000);
        let mut conn = self.store().connection();
        let scored: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
            .arg(keys.cancelled())
            .arg(offset)
            .arg(offset + limit - 1)
            .arg("WITHSCORES")
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        if scored.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = scored.iter().map(|(id, _)| id.as_str()).collect();
        let records: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
            .arg(keys.jobs())
            .arg(&ids)
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        Ok(scored
            .iter()
            .zip(records)
            .filter_map(|((_, at), record)| {
                record
                    .map(|r| JobInfo::from_record(queue, JobState::Cancelled, &r, Some(*at as i64)))
            })
            .collect())
    }

    /// How many cancelled jobs a queue keeps now.
    pub async fn cancelled_count(&self, queue: &str) -> Result<u64, Error> {
        let keys = self.store().queue_keys(queue)?;
        redis::cmd("ZCARD")
            .arg(keys.cancelled())
            .query_async(&mut self.store().connection())
            .await
            .map_err(Error::redis("cancelled_count"))
    }
}

impl Client {
    /// Cancels job `id` of `queue`; see [`Admin::cancel`].
    pub async fn cancel(&self, queue: &str, id: Uuid) -> Result<CancelOutcome, Error> {
        self.admin().cancel(queue, id).await
    }
}
