//! Records how a cron run ended on its entry, for the operator API's
//! "last result". Only jobs enqueued by a cron entry pay for this.
//!
//! Written right after the run finishes, beside (not inside) the script
//! that records the job's outcome: it is a report, and a lost report never
//! loses or repeats a job.

use std::sync::Arc;

use jobqueue_core::cron::{CronOutcome, CronRunResult};
use jobqueue_core::wire::record::decode_record;

use crate::run::outcome::{Outcome, last_error};
use crate::state::shared::Shared;

/// Stores the result of a finished cron run (in a background task).
pub(crate) fn record(
    shared: &Arc<Shared>,
    queue: usize,
    entry: &str,
    record: &[u8],
    outcome: &Outcome,
) {
    let Ok((envelope, _)) = decode_record(record) else {
        return;
    };
    let (outcome, error) = match outcome {
        Outcome::Succeeded => (CronOutcome::Succeeded, None),
        Outcome::Retry { record, .. } => (CronOutcome::Retrying, last_error(record)),
        Outcome::Dead { record, .. } => (CronOutcome::Dead, last_error(record)),
        Outcome::Cancelled => (CronOutcome::Cancelled, None),
        Outcome::Expired => (CronOutcome::Expired, None),
        Outcome::Parked { .. } => (CronOutcome::Retrying, None),
    };
    let result = CronRunResult {
        job_id: envelope.id,
        tick_ms: envelope.run_at,
        finished_at_ms: chrono::Utc::now().timestamp_millis(),
        outcome,
        error,
    };
    let Ok(json) = serde_json::to_string(&result) else {
        return;
    };
    let shared = shared.clone();
    let entry = entry.to_owned();
    tokio::spawn(async move {
        let keys = &shared.queues[queue].keys;
        if let Err(err) = shared.store.cron_set(keys, &entry, "result", &json).await {
            tracing::debug!(entry, error = %err, "could not record the cron run's result");
        }
    });
}
