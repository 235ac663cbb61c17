//! [`Shared`]: the state every task of one running worker shares — the
//! stores, the settings, the queues served, the jobs held and running, the
//! wake-up signals and the stop tokens of the shutdown sequence.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobqueue_core::store::Store;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::config::WorkerConfig;
use crate::middleware::Middleware;
use crate::state::held_jobs::HeldJobs;
use crate::state::queue::QueueRuntime;
use crate::state::registry::{ErasedState, Registry};
use crate::state::running_jobs::RunningJobs;

/// Everything the worker's tasks share.
pub(crate) struct Shared {
    /// The store on the application's runtime: fetches, outcomes, jobs.
    pub(crate) store: Store,
    /// The store on the housekeeping thread's own connection (see
    /// `loops/housekeeping.rs`): lease renewal, reaping, promotion, cron and the
    /// hand-back at shutdown, which a job blocking the application's
    /// threads cannot stall. The same as `store` for the inline worker.
    pub(crate) control: Store,
    /// Job types already warned about for blocking their thread (warned
    /// once per type; touched only when a poll blocked).
    pub(crate) blocking_warned: std::sync::Mutex<std::collections::HashSet<Arc<str>>>,
    pub(crate) redis_url: String,
    /// Where the pub/sub connection gets its credentials (the client
    /// config's provider), if anywhere but the URL.
    pub(crate) credentials: Option<jobqueue_core::credentials::CredentialsSource>,
    /// The client's connection settings, for the connections the worker
    /// opens of its own (the ready watches).
    pub(crate) connection_settings: jobqueue_core::store::ConnectionSettings,
    /// Decodes compressed and encrypted payloads (the client config's
    /// codec); plain payloads pass through it untouched.
    pub(crate) payload_codec: jobqueue_core::wire::payload_codec::PayloadCodec,
    pub(crate) config: WorkerConfig,
    pub(crate) worker_id: Arc<str>,
    pub(crate) host: String,
    pub(crate) queues: Vec<QueueRuntime>,
    /// Jobs this worker knows it holds leased.
    pub(crate) held: HeldJobs,
    pub(crate) registry: Registry,
    /// Per-job logs (`WorkerBuilder::job_logs`); `None`: none captured.
    pub(crate) job_logs: Option<crate::job_logs::JobLogs>,
    /// The application state jobs receive (`WorkerBuilder::state`).
    pub(crate) state: ErasedState,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    /// Wakes the fetcher: new jobs may be ready.
    pub(crate) wake_fetcher: Notify,
    /// Redis answers again after failing: a fetcher backing off after
    /// failed fetches tries at once (see [`Shared::redis_answers_again`]).
    pub(crate) redis_recovered: Notify,
    /// Wakes the delayed-job promoter: the earliest scheduled job may have
    /// changed.
    pub(crate) wake_promoter: Notify,
    /// Fired when shutdown starts: stop fetching.
    pub(crate) stop_fetching: CancellationToken,
    /// Fired when the grace period ends: running jobs are asked to stop.
    pub(crate) cancel_jobs: CancellationToken,
    /// Fired shortly after: jobs that ignored the request are dropped.
    pub(crate) abort_jobs: CancellationToken,
    /// Fired last: background tasks (heartbeat, reaper, …) stop.
    pub(crate) stop_background: CancellationToken,
    /// One permit per job slot.
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) started_at: DateTime<Utc>,
    /// When a heartbeat last reached Redis, ms since the epoch (readiness).
    pub(crate) last_beat_ok_ms: std::sync::atomic::AtomicI64,
    /// Moving average of job run time, µs (`u64::MAX` until measured).
    pub(crate) job_time_us: AtomicU64,
    /// Jobs running here, for operator cancellation.
    pub(crate) running: RunningJobs,
    /// Writes job statuses (progress, results).
    pub(crate) status_writer: Arc<jobqueue_core::client::status::StatusWriter>,
}

impl Shared {
    /// New work may be ready on queue `index`: clear its known-empty mark
    /// and wake the fetcher.
    pub(crate) fn work_arrived(&self, index: usize) {
        if let Some(queue) = self.queues.get(index) {
            queue.emptiness.wake();
        }
        self.wake_fetcher.notify_one();
    }

    /// Forgets what is known about empty queues: the next fetch round asks
    /// every queue again. For the fetcher itself (its periodic re-check,
    /// or after a failed fetch); other tasks use
    /// [`Shared::recheck_every_queue`].
    pub(crate) fn forget_emptiness(&self) {
        for queue in &self.queues {
            queue.emptiness.wake();
        }
    }

    /// Wake-ups may have been missed (the subscription was re-established,
    /// or Redis answered again after failing): forget what is known about
    /// empty queues and wake the fetcher, so every queue is asked at once.
    pub(crate) fn recheck_every_queue(&self) {
        self.forget_emptiness();
        self.wake_fetcher.notify_one();
    }

    /// Redis answers again after an outage or a failover (a heartbeat
    /// succeeded after failing, the wake-up subscription was
    /// re-established): wake-ups may have been lost meanwhile, and a
    /// fetcher backing off after failed fetches would otherwise wait out
    /// its backoff (up to 5 s) before looking. Every queue is asked at once.
    pub(crate) fn redis_answers_again(&self) {
        self.recheck_every_queue();
        self.redis_recovered.notify_waiters();
    }

    /// Leased jobs of queue `index` left their worker outside a
    /// completion batch (reclaimed, handed back, expired): on a queue with
    /// flow limits, wake the workers waiting for a slot of its running
    /// limit. Best effort: their recheck interval covers a failure.
    pub(crate) async fn slots_freed(&self, store: &Store, index: usize) {
        let Some(queue) = self.queues.get(index) else {
            return;
        };
        if queue.limits.is_active()
            && let Err(err) = store.wake_waiters(&queue.keys).await
        {
            tracing::debug!(queue = %queue.name, error = %err, "could not wake workers waiting for a slot");
        }
    }

    /// Folds one job's run time into the moving average.
    pub(crate) fn record_job_time(&self, micros: u64) {
        let old = self.job_time_us.load(Ordering::Relaxed);
        let new = if old == u64::MAX {
            micros
        } else {
            (old * 7 + micros) / 8
        };
        self.job_time_us.store(new, Ordering::Relaxed);
    }

    /// A poll of a job of type `job_type` held its thread for `held`:
    /// counted in the metrics every time, warned about once per job type.
    pub(crate) fn job_blocked(&self, queue: &str, job_type: &Arc<str>, held: Duration) {
        crate::metrics::blocking_poll(queue, job_type, held);
        let first = self
            .blocking_warned
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(job_type.clone());
        if first {
            tracing::warn!(
                job.type = %job_type,
                queue,
                blocked_ms = held.as_millis() as u64,
                "a job of type '{job_type}' blocked its worker thread for {} ms in one poll: \
                 nothing else on that thread ran meanwhile and its timeout could not fire; run \
                 blocking or CPU-bound work with tokio::task::spawn_blocking (docs/concepts.md). \
                 Reported once per job type",
                held.as_millis()
            );
        }
    }

    /// Notes that a heartbeat reached Redis just now.
    pub(crate) fn beat_succeeded(&self) {
        self.last_beat_ok_ms
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    /// Jobs running now.
    pub(crate) fn busy(&self) -> usize {
        self.config
            .concurrency
            .saturating_sub(self.slots.available_permits())
    }
}
