//! Writes a finished run's status (state, result, error) for jobs that
//! reported progress, left a result or were enqueued tracked. Others
//! cost nothing here.

use jobqueue_core::JobStatusState;
use jobqueue_core::client::status::RunStatus;

use crate::run::outcome::{Outcome, last_error};

/// Writes the final status in the background, when there is one to write.
pub(crate) fn finish(status: RunStatus, outcome: &Outcome) {
    if !status.needs_final_write() {
        return;
    }
    let (state, error) = match outcome {
        Outcome::Succeeded => (JobStatusState::Succeeded, None),
        // A snooze is not an end: the job runs again.
        Outcome::Retry { failed: false, .. } | Outcome::Parked { .. } => return,
        Outcome::Retry { record, .. } => (JobStatusState::Retrying, last_error(record)),
        Outcome::Dead { record, .. } => (JobStatusState::Dead, last_error(record)),
        Outcome::Cancelled => (JobStatusState::Cancelled, None),
        Outcome::Expired => (JobStatusState::Expired, None),
    };
    tokio::spawn(async move {
        if let Err(err) = status.finish(state, error.as_deref()).await {
            tracing::debug!(error = %err, "could not write the job's final status");
        }
    });
}
