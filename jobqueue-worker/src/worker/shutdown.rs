//! The graceful shutdown sequence, step by step: stop fetching, give the
//! running jobs their grace period (then cancel, then drop them), write
//! every finished job's outcome, hand the unfinished jobs back, stop the
//! background loops and remove the worker's info. [`WorkerReport`] says
//! what it did.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::loops::heartbeat;
use crate::state::shared::Shared;

/// How long shutdown waits for outcomes to be written and jobs handed back.
const SHUTDOWN_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long cancelled jobs get to stop cooperatively after the grace period.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// What a worker did, returned when it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerReport {
    /// The worker's identity.
    pub worker_id: String,
    /// Jobs that were still running when the grace period ended and were
    /// handed back to their queue.
    pub handed_back: u64,
}

/// The running parts the shutdown sequence stops, in order.
pub(crate) struct WorkerTasks {
    pub(crate) shared: Arc<Shared>,
    pub(crate) background: TaskTracker,
    pub(crate) jobs: TaskTracker,
    pub(crate) fetcher: JoinHandle<()>,
    pub(crate) promoter: JoinHandle<()>,
    pub(crate) outcome_writer: JoinHandle<()>,
    /// Tells the outcome writer to write what has arrived and stop.
    pub(crate) finish_writing: CancellationToken,
}

impl WorkerTasks {
    /// Runs the whole sequence (on the housekeeping thread).
    pub(crate) async fn shut_down(self) -> WorkerReport {
        let shared = &self.shared;
        let grace = shared.config.shutdown_grace;
        tracing::info!(worker = %shared.worker_id, busy = shared.busy(), grace_ms = grace.as_millis() as u64, "shutting down: no new jobs; waiting for running jobs");
        shared.stop_fetching.cancel();
        let _ = self.fetcher.await;
        let _ = self.promoter.await;
        if let Err(err) = heartbeat::publish_info(shared).await {
            tracing::debug!(error = %err, "could not mark the worker as stopping");
        }

        self.jobs.close();
        wait_for_jobs(shared, &self.jobs).await;
        finish_writing(self.finish_writing, self.outcome_writer).await;
        let handed_back = hand_back_unfinished(shared).await;

        shared.stop_background.cancel();
        self.background.wait().await;
        if let Err(err) = heartbeat::unpublish_info(shared).await {
            tracing::debug!(error = %err, "could not remove the worker's info");
        }
        tracing::info!(worker = %shared.worker_id, "worker stopped");
        WorkerReport {
            worker_id: shared.worker_id.to_string(),
            handed_back,
        }
    }
}

/// Gives the running jobs the grace period to finish; then fires their
/// tokens and gives them a moment to stop; then drops the ones that did
/// not (they are handed back). A job blocking its thread cannot be
/// dropped: it is given up on, and handed back all the same.
async fn wait_for_jobs(shared: &Shared, jobs: &TaskTracker) {
    let grace = shared.config.shutdown_grace;
    if tokio::time::timeout(grace, jobs.wait()).await.is_ok() {
        return;
    }
    tracing::warn!(
        running = shared.busy(),
        "grace period over: cancelling running jobs"
    );
    shared.cancel_jobs.cancel();
    if tokio::time::timeout(CANCEL_GRACE, jobs.wait())
        .await
        .is_ok()
    {
        return;
    }
    tracing::warn!(
        running = shared.busy(),
        "jobs did not stop when cancelled; dropping them and handing them back"
    );
    shared.abort_jobs.cancel();
    if tokio::time::timeout(CANCEL_GRACE, jobs.wait())
        .await
        .is_err()
    {
        tracing::error!(
            "a job is blocking its thread and cannot be stopped; handing it back \
             (move blocking work to tokio::task::spawn_blocking)"
        );
    }
}

/// Lets the outcome writer write what has arrived, and stop.
///
/// Every finished job's outcome must be written before the rest is
/// handed back, or a finished job would be run again. A job still
/// blocking its thread keeps its sender: write what has arrived
/// instead of waiting for the channel to close.
async fn finish_writing(finish: CancellationToken, mut writer: JoinHandle<()>) {
    finish.cancel();
    if tokio::time::timeout(SHUTDOWN_WRITE_TIMEOUT, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
        tracing::error!(
            "could not record every finished job before shutdown (Redis unreachable?); \
             unrecorded jobs run again once this worker's lease lapses"
        );
    }
}

/// Hands every job this worker still holds back to its queue, and drops
/// its leases; returns how many jobs went back.
async fn hand_back_unfinished(shared: &Shared) -> u64 {
    let mut handed_back = 0;
    for (index, queue) in shared.queues.iter().enumerate() {
        let result = tokio::time::timeout(
            SHUTDOWN_WRITE_TIMEOUT,
            shared
                .control
                .handback(&queue.keys, &shared.worker_id, &[], true),
        )
        .await;
        match result {
            Ok(Ok(count)) => {
                handed_back += count;
                if count > 0 {
                    shared.slots_freed(&shared.control, index).await;
                }
            }
            Ok(Err(err)) => {
                tracing::error!(queue = %queue.name, error = %err, "could not hand jobs back; they return when the lease lapses")
            }
            Err(_) => {
                tracing::error!(queue = %queue.name, "handing jobs back timed out; they return when the lease lapses")
            }
        }
    }
    if handed_back > 0 {
        tracing::warn!(
            jobs = handed_back,
            "handed unfinished jobs back to their queues"
        );
    }
    handed_back
}
