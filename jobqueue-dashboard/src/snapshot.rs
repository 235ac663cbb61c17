//! The overview snapshot: queues, totals, workers and Redis info, read at
//! most once per `snapshot_max_age` however many browsers poll the overview
//! and however often Prometheus scrapes `/metrics` (a [`MaxAgeCache`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jobqueue_core::admin::ServerInfo;
use jobqueue_core::{Admin, QueueInfo, Totals, WorkerInfo};
use serde::Serialize;

use crate::max_age_cache::MaxAgeCache;

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

/// The cache.
pub(crate) struct SnapshotCache(MaxAgeCache<Snapshot>);

impl SnapshotCache {
    pub(crate) fn new(max_age: Duration) -> Self {
        Self(MaxAgeCache::new(max_age))
    }

    /// The current snapshot, refreshed first when older than the max age.
    pub(crate) async fn get(&self, admin: &Admin) -> Result<Arc<Snapshot>, jobqueue_core::Error> {
        self.0.get(|previous| read(admin, previous)).await
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
