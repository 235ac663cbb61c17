//! The worker's own metrics, through the [`metrics`](https://docs.rs/metrics)
//! facade (feature `metrics`): install any recorder — e.g.
//! `metrics-exporter-prometheus` — and these series appear. Without the
//! feature every call compiles to nothing.
//!
//! | name | kind | labels | meaning |
//! | --- | --- | --- | --- |
//! | `jobqueue_jobs_finished_total` | counter | `queue`, `job_type`, `outcome` | runs by outcome: `succeeded`, `retried` (failed, will run again), `dead`, `snoozed` |
//! | `jobqueue_job_duration_seconds` | histogram | `queue`, `job_type` | run time of one attempt |
//! | `jobqueue_fetch_duration_seconds` | histogram | `queue` | one fetch round trip (lease a batch) |
//! | `jobqueue_fetched_jobs_total` | counter | `queue` | jobs leased |
//! | `jobqueue_job_blocking_polls_total` | counter | `queue`, `job_type` | polls of a job that held its thread for 100 ms or more (blocking code without `spawn_blocking`) |
//! | `jobqueue_job_blocking_poll_seconds` | histogram | `queue`, `job_type` | how long each such poll held the thread |
//! | `jobqueue_job_timeout_exceeded_total` | counter | `queue`, `job_type` | runs that returned after their timeout (they blocked their thread past it); recorded as they returned |
//! | `jobqueue_job_timeout_exceeded_seconds` | histogram | `queue`, `job_type` | by how much |
//! | `jobqueue_busy_slots` | gauge | — | jobs running now |
//! | `jobqueue_concurrency` | gauge | — | job slots of this worker |

use std::time::Duration;

use crate::run::outcome::Outcome;

/// Label value of an outcome.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded => "succeeded",
        Outcome::Retry { failed: true, .. } => "retried",
        Outcome::Retry { failed: false, .. } | Outcome::Parked { .. } => "snoozed",
        Outcome::Dead { .. } => "dead",
        Outcome::Cancelled => "cancelled",
        Outcome::Expired => "expired",
    }
}

/// One finished run. `record` is the leased record (its head names the job type).
#[cfg(feature = "metrics")]
pub(crate) fn job_finished(queue: &str, record: &[u8], outcome: &Outcome, elapsed: Duration) {
    let job_type = jobqueue_core::wire::record::decode_head(record)
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

/// A poll of a job of `job_type` on `queue` held its thread for `held`.
#[cfg(feature = "metrics")]
pub(crate) fn blocking_poll(queue: &str, job_type: &str, held: Duration) {
    let labels = [
        ("queue", queue.to_owned()),
        ("job_type", job_type.to_owned()),
    ];
    metrics::counter!("jobqueue_job_blocking_polls_total", &labels).increment(1);
    metrics::histogram!("jobqueue_job_blocking_poll_seconds", &labels).record(held.as_secs_f64());
}

/// A job of `job_type` on `queue` returned `exceeded_by` after its timeout.
#[cfg(feature = "metrics")]
pub(crate) fn timeout_exceeded(queue: &str, job_type: &str, exceeded_by: Duration) {
    let labels = [
        ("queue", queue.to_owned()),
        ("job_type", job_type.to_owned()),
    ];
    metrics::counter!("jobqueue_job_timeout_exceeded_total", &labels).increment(1);
    metrics::histogram!("jobqueue_job_timeout_exceeded_seconds", &labels)
        .record(exceeded_by.as_secs_f64());
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

#[cfg(not(feature = "metrics"))]
pub(crate) fn blocking_poll(_queue: &str, _job_type: &str, _held: Duration) {}

#[cfg(not(feature = "metrics"))]
pub(crate) fn timeout_exceeded(_queue: &str, _job_type: &str, _exceeded_by: Duration) {}
