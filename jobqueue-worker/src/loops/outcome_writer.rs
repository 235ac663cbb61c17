//! The outcome writer: records finished runs in Redis, in batches.
//!
//! Finished runs are sent here over a channel. The task takes whatever has
//! accumulated (at least one, at most 1000), groups it by queue and writes
//! each group with one pipelined round trip (`ack.lua`, `retry.lua`,
//! `bury.lua`). While one batch is on the wire the next one accumulates, so
//! batches grow with load without any timer adding latency.
//!
//! For a queue with flow limits the round trip also wakes the workers
//! waiting for a slot of its running limit (`wake_waiters.lua`, only when
//! one waits), so a limited queue runs at its limit.
//!
//! The scripts also count the jobs they end (`processed`, `failed`), for
//! only the jobs this worker still held: a batch retried after Redis
//! applied it counts nothing twice, and nothing is counted in memory where
//! a crash would lose it.
//!
//! With per-job logs on, the attempts' logs of a queue are written in one
//! more round trip: the logs kept (retry, dead) right before its endings,
//! so a record trimmed or deleted later takes its log with it; the drops
//! of succeeded jobs right after (`recording::goes_before_ending`).
//!
//! A batch that cannot be written (Redis down) is retried with backoff until
//! it is: a finished job stays leased until its outcome is recorded, and if
//! this process dies first the lease lapses and the job runs again
//! (at-least-once).

use std::sync::Arc;
use std::time::Duration;

use jobqueue_core::store::CompletionBatch;
use jobqueue_core::store::commands::job_logs::JobLogWrite;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::loops::retry_backoff::RetryBackoff;
use crate::run::recording::{
    Finished, add_to_batch, goes_before_ending, log_write, tell_children, write_logs,
};
use crate::state::queue::QueueRuntime;
use crate::state::shared::Shared;

/// Most outcomes written in one flush.
const MAX_BATCH: usize = 1000;

/// Writes outcomes until every sender is gone and the channel is drained,
/// or `finish` fires: then it writes what has arrived and stops. Shutdown
/// fires it once running jobs had their chance, so a job that blocks its
/// thread (and keeps its sender) cannot hold the shutdown up.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut finished: mpsc::UnboundedReceiver<Finished>,
    finish: CancellationToken,
) {
    let mut buffer = Vec::with_capacity(64);
    loop {
        let first = tokio::select! {
            biased;
            first = finished.recv() => first,
            () = finish.cancelled() => finished.try_recv().ok(),
        };
        let Some(first) = first else { break };
        buffer.push(first);
        while buffer.len() < MAX_BATCH {
            match finished.try_recv() {
                Ok(next) => buffer.push(next),
                Err(_) => break,
            }
        }
        write(&shared, std::mem::take(&mut buffer)).await;
    }
}

/// Writes one batch, queue by queue.
async fn write(shared: &Shared, batch: Vec<Finished>) {
    let mut per_queue: Vec<CompletionBatch> = vec![CompletionBatch::default(); shared.queues.len()];
    // Attempt logs (per-job logs on), per queue: written around the
    // queue's endings.
    let mut logs: Vec<Vec<JobLogWrite>> = vec![Vec::new(); shared.queues.len()];
    for Finished {
        queue,
        leased_id,
        outcome,
        mut after,
        keyed,
    } in batch
    {
        if let Some(write) = log_write(&leased_id, &outcome, &mut after) {
            logs[queue].push(write);
        }
        add_to_batch(&mut per_queue[queue], leased_id, outcome, after, keyed);
    }
    for (index, (queue, mut batch)) in shared.queues.iter().zip(per_queue).enumerate() {
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut logs[index])
            .into_iter()
            .partition(goes_before_ending);
        if !kept.is_empty() {
            write_logs(shared, index, &kept).await;
        }
        if !batch.is_empty() {
            // A queue with flow limits: wake workers waiting for a slot.
            batch.wake_waiters = queue.limits.is_active();
            write_queue(shared, index, queue, &batch).await;
        }
        if !dropped.is_empty() {
            write_logs(shared, index, &dropped).await;
        }
    }
}

/// Writes one queue's part of a batch, retrying until Redis accepts it.
async fn write_queue(shared: &Shared, index: usize, queue: &QueueRuntime, batch: &CompletionBatch) {
    let mut backoff = RetryBackoff::new(Duration::from_millis(50), Duration::from_secs(5));
    loop {
        match shared
            .store
            .complete(
                &queue.keys,
                &queue.active_key,
                batch,
                shared.config.dead_limits,
            )
            .await
        {
            Ok(report) => {
                // Only now, with the outcome written, may these jobs be
                // forgotten (see `state/held_jobs.rs`).
                shared.held.remove(index, batch_ids(batch));
                if batch.wake_waiters {
                    // Their slots are free in Redis now: this worker asks
                    // at once too, without waiting for its own `w`.
                    queue.limits.release_hold();
                    shared.work_arrived(index);
                }
                let recorded = report.acked + report.retried + report.buried;
                if recorded < batch.len() as u64 {
                    tracing::warn!(
                        queue = %queue.name,
                        finished = batch.len(),
                        recorded,
                        "some finished jobs were no longer leased by this worker (its lease \
                         lapsed and they were put back); they may run again"
                    );
                }
                if report.trimmed > 0 {
                    tracing::info!(queue = %queue.name, trimmed = report.trimmed, "dead set trimmed to its limits");
                }
                tell_children(&shared.store, &queue.keys, &report.releases).await;
                return;
            }
            Err(err) => {
                let delay = backoff.next_delay();
                tracing::warn!(
                    queue = %queue.name,
                    jobs = batch.len(),
                    error = %err,
                    retry_in_ms = delay.as_millis() as u64,
                    "could not record finished jobs; retrying"
                );
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// The leased ids of every job in a batch.
fn batch_ids(batch: &CompletionBatch) -> impl Iterator<Item = &[u8]> {
    let acks = batch
        .acks
        .iter()
        .chain(&batch.parent_acks)
        .map(Vec::as_slice);
    let retries = batch.retries.iter().map(|entry| entry.id.as_slice());
    let buries = batch
        .buries
        .iter()
        .chain(&batch.parent_buries)
        .map(|entry| entry.leased_id.as_slice());
    let endings = &batch.batch_jobs;
    let batch_jobs = endings
        .acks
        .iter()
        .map(|(_, id)| id.as_slice())
        .chain(endings.retries.iter().map(|(_, entry)| entry.id.as_slice()))
        .chain(
            endings
                .buries
                .iter()
                .map(|(_, entry)| entry.leased_id.as_slice()),
        );
    acks.chain(retries).chain(buries).chain(batch_jobs)
}
