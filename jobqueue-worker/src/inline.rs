//! [`InlineWorker`]: runs ready jobs one at a time in the calling task.
//!
//! Made for tests (the `jobqueue-testing` crate drains queues with it): no
//! background task, no concurrency, so a test knows exactly which jobs ran,
//! in which order, and what became of each. Everything else is the real
//! thing: jobs are leased with `fetch.lua` (`fetch_limited.lua` on a queue
//! with keyed jobs, whose key limits apply), decoded (and upcast) by the
//! registered handlers, wrapped in the middleware, guarded against panics
//! and timeouts, and their outcomes are recorded with the same scripts a
//! running worker uses — retries and dead jobs land in Redis as in
//! production.

use std::sync::Arc;
use std::time::Duration;

use jobqueue_core::store::{CompletionBatch, FetchStatus};
use jobqueue_core::wire::record::{decode_head, decode_record};
use uuid::Uuid;

use crate::error::WorkerError;
use crate::loops::heartbeat;
use crate::run::leased::Leased;
use crate::run::outcome::Outcome;
use crate::run::recording::{
    add_to_batch, goes_before_ending, log_write, tell_children, write_logs,
};
use crate::run::runner;
use crate::state::shared::Shared;

/// A worker that runs ready jobs only when asked, one at a time, in the
/// calling task. Build one with [`crate::WorkerBuilder::inline`].
///
/// Queues are tried in their configured order before every job, so jobs
/// run in the order a single-slot worker with strict queue order would
/// run them. Delayed jobs and retries are not promoted here: they run once
/// they are ready (see `jobqueue-testing` for moving them along).
///
/// Leases are renewed before each [`InlineWorker::run_ready`], not while a
/// job runs: a job that runs longer than the lease (30 s by default) could
/// be reclaimed by a real worker running on the same queues at that time.
///
/// ```no_run
/// # use jobqueue_core::{Client, Job, JobContext, JobError};
/// # use jobqueue_worker::{InlineOutcome, Worker};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Serialize, Deserialize)] struct Ping;
/// # impl Job for Ping {
/// #     const NAME: &'static str = "ping";
/// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
/// # }
/// # async fn demo(client: Client) -> Result<(), Box<dyn std::error::Error>> {
/// client.enqueue(Ping).await?;
/// let worker = Worker::builder(client).register::<Ping>().inline().await?;
/// let runs = worker.run_ready(100).await?;
/// assert!(matches!(runs[0].outcome, InlineOutcome::Succeeded));
/// worker.close().await;
/// # Ok(()) }
/// ```
pub struct InlineWorker {
    shared: Arc<Shared>,
}

/// One job run by an [`InlineWorker`].
#[derive(Debug, Clone, PartialEq)]
pub struct InlineRun {
    /// The job id (`None` for a record too damaged to carry one).
    pub id: Option<Uuid>,
    /// The job type (`None` when the record could not be decoded).
    pub job_type: Option<String>,
    /// The queue it came from.
    pub queue: String,
    /// This run's attempt number (1 = first run).
    pub attempt: u32,
    /// What became of it.
    pub outcome: InlineOutcome,
}

/// What became of one inline run.
#[derive(Debug, Clone, PartialEq)]
pub enum InlineOutcome {
    /// It succeeded and was acknowledged.
    Succeeded,
    /// It failed and waits in the retry set for `delay`.
    Retrying {
        /// Backoff before the next attempt.
        delay: Duration,
        /// The error of this attempt.
        error: String,
    },
    /// It asked to run again later without counting an attempt.
    Snoozed {
        /// How long it waits.
        delay: Duration,
    },
    /// It will not run again: it is in the dead set.
    Dead {
        /// Why (the last error of its history).
        error: String,
    },
    /// It was cancelled while it ran (recorded in the cancelled set).
    Cancelled,
    /// It was not started before its expiry (recorded in the expired set).
    Expired,
}

impl InlineRun {
    /// True when the run succeeded.
    pub fn succeeded(&self) -> bool {
        self.outcome == InlineOutcome::Succeeded
    }
}

impl InlineWorker {
    pub(crate) async fn new(shared: Arc<Shared>) -> Result<Self, WorkerError> {
        heartbeat::beat(&shared, true).await?;
        Ok(Self { shared })
    }

    /// The worker's identity (what `JobContext::worker_id` returns).
    pub fn worker_id(&self) -> &str {
        &self.shared.worker_id
    }

    /// Runs ready jobs until none is left, at most `max_jobs` of them
    /// (a job that enqueues another job each time would otherwise never
    /// let this return). Jobs enqueued by the jobs themselves run too.
    pub async fn run_ready(&self, max_jobs: usize) -> Result<Vec<InlineRun>, WorkerError> {
        // Renew the leases first: a previous call may be longer ago than a lease.
        heartbeat::beat(&self.shared, false).await?;
        let mut runs = Vec::new();
        while runs.len() < max_jobs {
            match self.run_next().await? {
                Some(run) => runs.push(run),
                None => break,
            }
        }
        Ok(runs)
    }

    /// Leases at most one job of queue `index`.
    async fn fetch_one(
        &self,
        index: usize,
        limited: bool,
    ) -> Result<jobqueue_core::store::FetchReply, WorkerError> {
        let shared = &self.shared;
        let queue = &shared.queues[index];
        let reply = if limited {
            shared
                .store
                .fetch_limited(
                    &queue.keys,
                    &queue.active_key,
                    &shared.worker_id,
                    1,
                    shared.config.limit_recheck_interval,
                    &mut Vec::new(),
                )
                .await?
        } else {
            shared
                .store
                .fetch(&queue.keys, &queue.active_key, &shared.worker_id, 1)
                .await?
        };
        Ok(reply)
    }

    /// Leases the next ready job (queues in configured order), runs it and
    /// records its outcome. `None` when no queue has a ready job.
    pub async fn run_next(&self) -> Result<Option<InlineRun>, WorkerError> {
        let shared = &self.shared;
        for (index, queue) in shared.queues.iter().enumerate() {
            // Keyed jobs are served only by fetch_limited.lua (which also
            // applies the queue's limits, if it has any).
            let limited = shared.store.has_keyed_jobs(&queue.keys).await?;
            let mut reply = self.fetch_one(index, limited).await?;
            if reply.status == FetchStatus::NoLease {
                shared
                    .store
                    .heartbeat(&queue.keys, &shared.worker_id, shared.config.lease)
                    .await?;
                reply = self.fetch_one(index, limited).await?;
            }
            let Some(record) = reply.records.into_iter().next() else {
                continue;
            };
            let keyed = jobqueue_core::wire::record::record_flow_key(&record).is_some();
            let leased = Leased {
                queue: index,
                record,
                keyed,
            };
            let (outcome, mut after) = runner::run(shared, &leased).await;
            let run = describe(&queue.name, &leased.record, &outcome);
            let mut log = log_write(&leased.leased_id(), &outcome, &mut after);
            if let Some(kept) = log.take_if(|write| goes_before_ending(write)) {
                write_logs(shared, index, &[kept]).await;
            }
            let mut batch = CompletionBatch {
                wake_waiters: limited,
                ..CompletionBatch::default()
            };
            add_to_batch(&mut batch, leased.leased_id(), outcome, after, keyed);
            let report = shared
                .store
                .complete(
                    &queue.keys,
                    &queue.active_key,
                    &batch,
                    shared.config.dead_limits,
                )
                .await?;
            if let Some(log) = log {
                write_logs(shared, index, &[log]).await;
            }
            tell_children(&shared.store, &queue.keys, &report.releases).await;
            return Ok(Some(run));
        }
        Ok(None)
    }

    /// Removes the worker's leases and info.
    pub async fn close(self) {
        let shared = &self.shared;
        for queue in &shared.queues {
            if let Err(err) = shared
                .store
                .handback(&queue.keys, &shared.worker_id, &[], true)
                .await
            {
                tracing::debug!(queue = %queue.name, error = %err, "inline worker: could not drop its lease");
            }
        }
        if let Err(err) = heartbeat::unpublish_info(shared).await {
            tracing::debug!(error = %err, "inline worker: could not remove its info");
        }
    }
}

/// The test-facing account of one run, read from the records.
fn describe(queue: &str, leased: &[u8], outcome: &Outcome) -> InlineRun {
    let head = decode_head(leased).ok().map(|(head, _)| head);
    let last_error = |record: &[u8]| {
        decode_record(record)
            .ok()
            .and_then(|(envelope, _)| envelope.errors.last().map(|e| e.message.clone()))
            .unwrap_or_default()
    };
    let outcome = match outcome {
        Outcome::Succeeded => InlineOutcome::Succeeded,
        Outcome::Retry {
            delay,
            failed: false,
            ..
        } => InlineOutcome::Snoozed { delay: *delay },
        Outcome::Retry { delay, record, .. } => InlineOutcome::Retrying {
            delay: *delay,
            error: last_error(record),
        },
        Outcome::Dead { record, .. } => InlineOutcome::Dead {
            error: last_error(record),
        },
        Outcome::Cancelled => InlineOutcome::Cancelled,
        Outcome::Expired => InlineOutcome::Expired,
        Outcome::Parked { delay } => InlineOutcome::Snoozed { delay: *delay },
    };
    InlineRun {
        id: head
            .as_ref()
            .map(|h| h.id)
            .or_else(|| jobqueue_core::wire::record::record_id(leased)),
        job_type: head.as_ref().map(|h| h.job_type.to_string()),
        queue: queue.to_owned(),
        attempt: head.map_or(1, |h| h.attempt.saturating_add(1)),
        outcome,
    }
}
