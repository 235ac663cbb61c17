//! The first status of a tracked job, written at enqueue: `queued`,
//! `scheduled` or `waiting`, sent before the job itself so no worker can
//! start it first (see `client::status`).

use std::sync::Arc;

use chrono::Utc;

use crate::client::handle::Client;
use crate::client::prepared::{Destination, PreparedJob};
use crate::client::status::{JobStatusState, PENDING_STATUS_TTL, millis};
use crate::client::unique::UniqueOutcome;
use crate::error::Error;
use crate::store::ScheduleAt;
use crate::store::commands::status::StatusWrite;
use crate::store::keys::QueueKeys;

/// When a scheduled job is due, in ms since the epoch (its enqueue time
/// otherwise), on this process's clock: good for telling a reader whether
/// it is due; the promoter decides on the Redis clock.
fn due_ms(job: &PreparedJob, now_ms: i64) -> i64 {
    match job.destination {
        Destination::Scheduled(ScheduleAt::In(ms)) => {
            now_ms.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX))
        }
        Destination::Scheduled(ScheduleAt::At(at)) => at,
        Destination::Ready | Destination::Priority => now_ms,
    }
}

/// The status a tracked job starts with, and its TTL in ms: a delayed
/// job's status lasts [`PENDING_STATUS_TTL`] after its run time.
fn initial_status(job: &PreparedJob, now_ms: i64) -> (JobStatusState, u64) {
    let pending = millis(PENDING_STATUS_TTL);
    if !job.after.is_empty() {
        return (JobStatusState::Waiting, pending);
    }
    let delay_ms = match job.destination {
        Destination::Scheduled(ScheduleAt::In(ms)) => ms,
        Destination::Scheduled(ScheduleAt::At(at)) => u64::try_from(at - now_ms).unwrap_or(0),
        Destination::Ready | Destination::Priority => 0,
    };
    if delay_ms > 0 {
        (JobStatusState::Scheduled, pending.saturating_add(delay_ms))
    } else {
        (JobStatusState::Queued, pending)
    }
}

impl Client {
    /// Writes the first status of the tracked jobs among `jobs` (one
    /// pipeline; nothing when none is tracked). An existing status under
    /// a job's id is left as it is.
    pub(crate) async fn write_initial_statuses(&self, jobs: &[PreparedJob]) -> Result<(), Error> {
        let tracked: Vec<&PreparedJob> = jobs.iter().filter(|job| job.track).collect();
        if tracked.is_empty() {
            return Ok(());
        }
        let now_ms = Utc::now().timestamp_millis();
        let mut rows: Vec<(Arc<QueueKeys>, String, JobStatusState, u64, String)> = Vec::new();
        for job in tracked {
            let (state, ttl_ms) = initial_status(job, now_ms);
            let queue = self.queue_keys(&job.queue).await?;
            let due = due_ms(job, now_ms).to_string();
            rows.push((queue, job.id.to_string(), state, ttl_ms, due));
        }
        // A scheduled job's status also says when it is due, so a reader
        // sees `queued` once it is (promotion itself writes nothing: the
        // plain path stays free).
        let fields: Vec<Vec<(&str, &str)>> = rows
            .iter()
            .map(|(_, _, state, _, due)| match state {
                JobStatusState::Scheduled => vec![("state", state.as_str()), ("due", due.as_str())],
                _ => vec![("state", state.as_str())],
            })
            .collect();
        let writes: Vec<StatusWrite<'_>> = rows
            .iter()
            .zip(&fields)
            .map(|((queue, id, _, ttl_ms, _), fields)| StatusWrite {
                queue,
                id,
                fields,
                ttl_ms: *ttl_ms,
            })
            .collect();
        self.store()
            .init_statuses(&writes, &now_ms.to_string())
            .await
    }

    /// Deletes the status written for a tracked job that was not enqueued
    /// after all (a unique job refused or debounced: another job holds its
    /// key). Best effort: the status expires anyway.
    pub(crate) async fn drop_unused_status(&self, job: &PreparedJob, outcome: &UniqueOutcome) {
        if !job.track || outcome.id() == job.id {
            return;
        }
        let deleted = match self.queue_keys(&job.queue).await {
            Ok(queue) => {
                self.store()
                    .delete_status(&queue, &job.id.to_string())
                    .await
            }
            Err(err) => Err(err),
        };
        if let Err(err) = deleted {
            tracing::debug!(error = %err, "could not delete the status of a job not enqueued");
        }
    }
}
