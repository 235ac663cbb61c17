//! The worker's own metrics, through the [`metrics`] facade (feature
//! `metrics`): install any recorder — e.g. `metrics-exporter-prometheus` —
//! and these series appear. Without the feature every call compiles to
//! nothing.
//!
//! | name | kind | labels | meaning |
//! | --- | --- | --- | --- |
//! | `jobqueue_jobs_finished_total` | counter | `queue`, `job_type`, `outcome` | runs by outcome: `succeeded`, `retried` (failed, will run again), `dead`, `snoozed` |
//! | `jobqueue_job_duration_seconds` | histogram | `queue`, `job_type` | run time of one attempt |
//! | `jobqueue_fetch_duration_seconds` | histogram | `queue` | one fetch round trip (lease a batch) |
//! | `jobqueue_fetched_jobs_total` | counter | `queue` | jobs leased |
//! | `jobqueue_busy_slots` | gauge | — | jobs running now |
//! | `jobqueue_concurrency` | gauge | — | job slots of this worker |

use std::time::Duration;

use crate::runner::Outcome;

/// Label value of an outcome.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded => "succeeded",
        Outcome::Retry { failed: true, .. } => "retried",
        Outcome::Retry { failed: false, .. } => "snoozed",
        Outcome::Dead { .. } => "dead",
        Outcome::Cancelled => "cancelled",
        Outcome::Expired => "expired",
    }
}

/// One finished run. `record` is the leased record (its head names the job type).
#[cfg(feature = "metrics")]
pub(crate) fn job_finished(queue: &str, record: &[u8], outcome: &Outcome, elapsed: Duration) {
    let job_type = jobqueue_core::record::decode_head(record)
        .map(|(head, _)| head.job_type.into_owned())
        .unwrap_or_else(|_| "(undecodable)".to_owned());
    let labels = [("queue", queue.to_owned()), ("job_type", job_type)];
    metrics::histogram!("jobqueue_job_duration_seconds", &labels).record(elapsed.as_secs_f64());
    let [queue, job_type] = labels;
    metrics::counter!(
        "jobqueue_jobs_finished_total",
        &[
            queue,
            job_type,
            ("outcome", outcome_label(outcome).to_owned())
        ]
    )
    .increment(1);
}

/// One fetch round trip on `queue` that leased `leased` jobs.
#[cfg(feature = "metrics")]
pub(crate) fn fetched(queue: &str, leased: usize, elapsed: Duration) {
    let labels = [("queue", queue.to_owned())];
    metrics::histogram!("jobqueue_fetch_duration_seconds", &labels).record(elapsed.as_secs_f64());
    metrics::counter!("jobqueue_fetched_jobs_total", &labels).increment(leased as u64);
}

/// Slots in use and in total.
#[cfg(feature = "metrics")]
pub(crate) fn slots(busy: usize, concurrency: usize) {
    metrics::gauge!("jobqueue_busy_slots").set(busy as f64);
    metrics::gauge!("jobqueue_concurrency").set(concurrency as f64);
}

#[cfg(not(feature = "metrics"))]
pub(crate) fn job_finished(_queue: &str, _record: &[u8], _outcome: &Outcome, _elapsed: Duration) {}

#[cfg(not(feature = "metrics"))]
pub(crate) fn fetched(_queue: &str, _leased: usize, _elapsed: Duration) {}

#[cfg(not(feature = "metrics"))]
pub(crate) fn slots(_busy: usize, _concurrency: usize) {}
