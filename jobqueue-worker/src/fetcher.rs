//! The fetch loop: lease jobs when slots are free, start each in its own task.
//!
//! The loop waits for at least one free slot, then leases as many jobs as
//! there are free slots (up to `max_fetch_batch`) with one `fetch.lua` call
//! per queue tried, in the order of the queue picker. When nothing is ready
//! it sleeps until a wake-up arrives over pub/sub (new jobs, resume, a due
//! job promoted here) or, as a fallback, for `idle_poll_interval`: an idle
//! worker costs Redis nothing but that fallback poll.

use std::sync::Arc;
use std::time::Duration;

use jobqueue_core::store::FetchStatus;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::backoff::RetryBackoff;
use crate::completion::Finished;
use crate::queue_order::QueuePicker;
use crate::runner::{self, Leased, Outcome};
use crate::runtime::Shared;

/// Runs until `stop_fetching` fires.
pub(crate) async fn run(
    shared: Arc<Shared>,
    finished: mpsc::UnboundedSender<Finished>,
    jobs: tokio_util::task::TaskTracker,
) {
    let picker = QueuePicker::new(shared.config.queues.clone());
    let mut backoff = RetryBackoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        let first = tokio::select! {
            permit = shared.slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = shared.stop_fetching.cancelled() => break,
        };
        let mut permits = first;
        let extra = shared
            .slots
            .available_permits()
            .min(shared.config.max_fetch_batch.saturating_sub(1));
        if extra > 0
            && let Ok(more) = shared.slots.clone().try_acquire_many_owned(extra as u32)
        {
            permits.merge(more);
        }

        match fetch_round(&shared, &picker, permits.num_permits()).await {
            Ok(leased) if leased.is_empty() => {
                drop(permits);
                backoff.reset(Duration::from_millis(100));
                tokio::select! {
                    () = shared.wake_fetcher.notified() => {}
                    () = tokio::time::sleep(shared.config.idle_poll_interval) => {}
                    () = shared.stop_fetching.cancelled() => break,
                }
            }
            Ok(leased) => {
                backoff.reset(Duration::from_millis(100));
                for job in leased {
                    let Some(permit) = permits.split(1) else {
                        // More jobs than permits cannot happen (we asked for
                        // as many as we hold); hand the job back if it does.
                        tracing::error!("fetched more jobs than free slots; handing one back");
                        hand_back_one(&shared, &job).await;
                        continue;
                    };
                    jobs.spawn(run_job(shared.clone(), job, permit, finished.clone()));
                }
            }
            Err(err) => {
                drop(permits);
                let delay = backoff.next_delay();
                tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "fetch failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shared.stop_fetching.cancelled() => break,
                }
            }
        }
    }
}

/// One pass over the queues, leasing up to `want` jobs.
async fn fetch_round(
    shared: &Shared,
    picker: &QueuePicker,
    want: usize,
) -> Result<Vec<Leased>, jobqueue_core::Error> {
    let mut leased = Vec::with_capacity(want);
    for index in picker.next_round() {
        let remaining = want - leased.len();
        if remaining == 0 {
            break;
        }
        let queue = &shared.queues[index];
        let mut reply = shared
            .store
            .fetch(&queue.keys, &queue.active_key, &shared.worker_id, remaining)
            .await?;
        if reply.status == FetchStatus::NoLease {
            // First fetch before the first heartbeat landed, or the lease
            // lapsed (e.g. Redis was unreachable longer than the lease).
            shared
                .store
                .heartbeat(&queue.keys, &shared.worker_id, shared.config.lease)
                .await?;
            reply = shared
                .store
                .fetch(&queue.keys, &queue.active_key, &shared.worker_id, remaining)
                .await?;
        }
        leased.extend(reply.records.into_iter().map(|record| Leased {
            queue: index,
            record,
        }));
    }
    Ok(leased)
}

/// Runs one job in its own task and reports the outcome.
async fn run_job(
    shared: Arc<Shared>,
    job: Leased,
    permit: OwnedSemaphorePermit,
    finished: mpsc::UnboundedSender<Finished>,
) {
    let outcome = tokio::select! {
        outcome = runner::run(&shared, &job) => outcome,
        // Shutdown gave up on this job: drop it; it is handed back.
        () = shared.abort_jobs.cancelled() => return,
    };
    let counters = &shared.queues[job.queue].counters;
    match &outcome {
        Outcome::Succeeded => counters.add_processed(1),
        Outcome::Retry { failed: true, .. } | Outcome::Dead { .. } => counters.add_failed(1),
        Outcome::Retry { failed: false, .. } => {}
    }
    drop(permit);
    let report = Finished {
        queue: job.queue,
        leased_id: job.leased_id(),
        outcome,
    };
    if finished.send(report).is_err() {
        // The completion task is gone (shutdown timed out); the job stays
        // leased and is handed back or reclaimed.
        tracing::warn!("finished a job after shutdown stopped recording outcomes");
    }
}

async fn hand_back_one(shared: &Shared, job: &Leased) {
    let queue = &shared.queues[job.queue];
    if let Err(err) = shared
        .store
        .handback(&queue.keys, &shared.worker_id, &[job.leased_id()], false)
        .await
    {
        tracing::warn!(error = %err, "could not hand a job back; it returns when the lease lapses");
    }
}
