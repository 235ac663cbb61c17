//! The overview snapshot: queues, totals, workers and Redis info, read at
//! most once per `snapshot_max_age` however many browsers poll the overview
//! and however often Prometheus scrapes `/metrics`. Concurrent requests for
//! a stale snapshot wait for one refresh instead of each reading Redis.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jobqueue_core::admin::ServerInfo;
use jobqueue_core::{Admin, QueueInfo, Totals, WorkerInfo};
use serde::Serialize;
use tokio::sync::Mutex;

/// Everything the overview and `/metrics` show.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Snapshot {
    /// When it was read.
    #[serde(serialize_with = "jobqueue_core::json_time::datetime")]
    pub(crate) taken_at: DateTime<Utc>,
    /// Processed and failed totals.
    pub(crate) totals: Totals,
    /// Jobs processed per second since the previous snapshot.
    pub(crate) processed_per_second: f64,
    /// Failed attempts per second since the previous snapshot.
    pub(crate) failed_per_second: f64,
    /// Every queue.
    pub(crate) queues: Vec<QueueInfo>,
    /// Names in the queue registry that are not valid queue names, skipped
    /// (a producer in another language wrote them).
    pub(crate) invalid_queue_names: Vec<String>,
    /// Jobs processed per second per queue since the previous snapshot.
    pub(crate) queue_rates: HashMap<String, f64>,
    /// Live worker processes.
    pub(crate) workers: Vec<WorkerInfo>,
    /// Sum of busy slots over the workers.
    pub(crate) busy_slots: u64,
    /// Sum of slots over the workers.
    pub(crate) total_slots: u64,
    /// Redis version and memory.
    pub(crate) redis: ServerInfo,
}

struct Cached {
    snapshot: Arc<Snapshot>,
    read_at: Instant,
}

/// The cache.
pub(crate) struct SnapshotCache {
    max_age: Duration,
    current: Mutex<Option<Cached>>,
}

impl SnapshotCache {
    pub(crate) fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            current: Mutex::new(None),
        }
    }

    /// The current snapshot, refreshed first when older than the max age.
    pub(crate) async fn get(&self, admin: &Admin) -> Result<Arc<Snapshot>, jobqueue_core::Error> {
        // Holding the lock across the refresh makes concurrent callers wait
        // for this one read rather than start their own.
        let mut current = self.current.lock().await;
        if let Some(cached) = current.as_ref()
            && cached.read_at.elapsed() < self.max_age
        {
            return Ok(cached.snapshot.clone());
        }
        let previous = current.as_ref().map(|c| (c.snapshot.clone(), c.read_at));
        let snapshot = Arc::new(read(admin, previous).await?);
        *current = Some(Cached {
            snapshot: snapshot.clone(),
            read_at: Instant::now(),
        });
        Ok(snapshot)
    }
}

async fn read(
    admin: &Admin,
    previous: Option<(Arc<Snapshot>, Instant)>,
) -> Result<Snapshot, jobqueue_core::Error> {
    let totals = admin.totals().await?;
    let registry = admin.queue_registry().await?;
    let queues = admin.queue_infos(&registry.names).await?;
    let workers = admin.workers().await?;
    let redis = admin.server_info().await?;
    let (processed_per_second, failed_per_second, queue_rates) = match previous {
        Some((prev, at)) => {
            let seconds = at.elapsed().as_secs_f64().max(0.001);
            let rate = |now: u64, before: u64| now.saturating_sub(before) as f64 / seconds;
            let queue_rates = queues
                .iter()
                .map(|q| {
                    let before = prev
                        .queues
                        .iter()
                        .find(|p| p.name == q.name)
                        .map_or(q.processed, |p| p.processed);
                    (q.name.clone(), rate(q.processed, before))
                })
                .collect();
            (
                rate(totals.processed, prev.totals.processed),
                rate(totals.failed, prev.totals.failed),
                queue_rates,
            )
        }
        None => (0.0, 0.0, HashMap::new()),
    };
    Ok(Snapshot {
        taken_at: Utc::now(),
        processed_per_second,
        failed_per_second,
        busy_slots: workers.iter().map(|w| u64::from(w.busy)).sum(),
        total_slots: workers.iter().map(|w| u64::from(w.concurrency)).sum(),
        totals,
        queues,
        invalid_queue_names: registry.invalid,
        queue_rates,
        workers,
        redis,
    })
}
