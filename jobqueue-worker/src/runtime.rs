//! State shared by the tasks of one running worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use jobqueue_core::keys::QueueKeys;
use jobqueue_core::store::Store;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::config::WorkerConfig;
use crate::middleware::Middleware;
use crate::registry::Registry;

/// One queue the worker serves.
pub(crate) struct QueueRuntime {
    pub(crate) name: Arc<str>,
    pub(crate) keys: QueueKeys,
    /// This worker's active hash on the queue.
    pub(crate) active_key: String,
    pub(crate) counters: QueueCounters,
}

/// Counters kept in memory and flushed to Redis about every second.
#[derive(Default)]
pub(crate) struct QueueCounters {
    pub(crate) processed: AtomicU64,
    pub(crate) failed: AtomicU64,
}

impl QueueCounters {
    pub(crate) fn add_processed(&self, n: u64) {
        self.processed.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_failed(&self, n: u64) {
        self.failed.fetch_add(n, Ordering::Relaxed);
    }
}

/// Everything the worker's tasks share.
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) redis_url: String,
    pub(crate) config: WorkerConfig,
    pub(crate) worker_id: Arc<str>,
    pub(crate) host: String,
    pub(crate) queues: Vec<QueueRuntime>,
    pub(crate) registry: Registry,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    /// Wakes the fetcher: new jobs may be ready.
    pub(crate) wake_fetcher: Notify,
    /// Wakes the scheduler: the earliest scheduled job may have changed.
    pub(crate) wake_scheduler: Notify,
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
}

impl Shared {
    /// Jobs running now.
    pub(crate) fn busy(&self) -> usize {
        self.config
            .concurrency
            .saturating_sub(self.slots.available_permits())
    }
}
