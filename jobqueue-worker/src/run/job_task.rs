//! The task one leased job runs in: runs it to its outcome, folds its run
//! time into the worker's average, frees its slot and sends the outcome to
//! the outcome writer (`loops/outcome_writer.rs`).

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::run::leased::Leased;
use crate::run::outcome::Outcome;
use crate::run::recording::{Finished, log_write, write_logs};
use crate::run::runner;
use crate::state::shared::Shared;

/// Runs one job in its own task and reports the outcome.
pub(crate) async fn run_job(
    shared: Arc<Shared>,
    job: Leased,
    permit: OwnedSemaphorePermit,
    finished: mpsc::UnboundedSender<Finished>,
) {
    let started = Instant::now();
    // The run's future is large (decode, middleware, the job's own future):
    // boxed once here, it is not copied into and through this task's state
    // (halved the worker's memcpy in w1, about 10% of its instructions).
    let (outcome, mut after) = tokio::select! {
        ran = Box::pin(runner::run(&shared, &job)) => ran,
        // Shutdown gave up on this job: drop it; it is handed back.
        () = shared.abort_jobs.cancelled() => return,
    };
    let elapsed = started.elapsed();
    shared.record_job_time(elapsed.as_micros() as u64);
    crate::metrics::job_finished(
        &shared.queues[job.queue].name,
        &job.record,
        &outcome,
        elapsed,
    );
    drop(permit);
    if matches!(
        outcome,
        Outcome::Cancelled | Outcome::Expired | Outcome::Parked { .. }
    ) {
        // cancel.lua, expire.lua or signal_wait.lua already filed the job:
        // nothing to record but the attempt's log (per-job logs on).
        if let Some(log) = log_write(&job.leased_id(), &outcome, &mut after) {
            write_logs(&shared, job.queue, &[log]).await;
        }
        return;
    }
    crate::metrics::slots(shared.busy(), shared.config.concurrency);
    let report = Finished {
        queue: job.queue,
        leased_id: job.leased_id(),
        outcome,
        after,
        keyed: job.keyed,
    };
    if finished.send(report).is_err() {
        // The outcome writer is gone (shutdown timed out); the job stays
        // leased and is handed back or reclaimed.
        tracing::warn!("finished a job after shutdown stopped recording outcomes");
    }
}
