//! [`WorkerConfig`]: every setting of a worker process and its default.

use std::time::Duration;

use jobqueue_core::store::DeadLimits;

/// Which queues a worker fetches from, and in what order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueOrder {
    /// The queues of the job types and cron entries registered on the
    /// worker, sorted by name, with equal weights (the default). Resolved
    /// into [`QueueOrder::Strict`] (one queue) or [`QueueOrder::Weighted`]
    /// when the worker starts.
    Registered,
    /// Always try the queues in this order: a later queue gets jobs only
    /// when every earlier one is empty.
    Strict(Vec<String>),
    /// Each fetch picks the first queue to try at random, in proportion to
    /// the weights (then the rest in weighted random order), so every queue
    /// gets its share and none starves.
    Weighted(Vec<(String, u32)>),
}

impl QueueOrder {
    /// The queue names, in configured order (none for
    /// [`QueueOrder::Registered`] until the worker resolves it).
    pub fn names(&self) -> Vec<String> {
        match self {
            QueueOrder::Registered => Vec::new(),
            QueueOrder::Strict(names) => names.clone(),
            QueueOrder::Weighted(weighted) => weighted.iter().map(|(q, _)| q.clone()).collect(),
        }
    }
}

/// How many leased jobs a worker may hold beyond its free slots.
///
/// Prefetching hides the fetch round trip when jobs are shorter than it
/// (thousands of jobs a second per worker), but a prefetched job waits for
/// a slot in this worker while another worker might be idle, so it only
/// pays for short jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefetch {
    /// Prefetch while the average job is shorter than the average fetch
    /// round trip — enough jobs to keep every slot busy for two round trips,
    /// at most `max_fetch_batch` — and none otherwise (the default).
    Auto,
    /// Always hold up to this many extra jobs (0 = never prefetch).
    Fixed(usize),
}

/// Settings of a worker. Build with [`crate::Worker::builder`].
///
/// | setting | default | meaning |
/// | --- | --- | --- |
/// | `queues` | [`QueueOrder::Registered`]: the registered job types' and cron entries' queues, equal weights | queues to fetch from |
/// | `concurrency` | 10 | jobs run at once |
/// | `lease` | 30 s | how long a fetched job stays leased without a heartbeat |
/// | `heartbeat_interval` | lease / 6 (5 s) | how often leases are renewed |
/// | `reap_interval` | lease / 6 (5 s) | how often lapsed leases of other workers are looked for |
/// | `shutdown_grace` | 25 s | how long in-flight jobs may finish after a stop signal |
/// | `idle_poll_interval` | 2 s | how often every queue is asked again, idle or busy, in case a wake-up was lost |
/// | `watch_ready` | on | an idle worker waits in a blocking move on each empty queue's ready list (one connection per queue, the first 16; not through Sentinel), so a pushed job reaches it in one hop |
/// | `limit_recheck_interval` | 50 ms | how soon a queue held back by its running limit is asked again if no freed slot woke the worker first |
/// | `max_fetch_batch` | 100 | most jobs leased per fetch call |
/// | `prefetch` | auto | extra jobs held beyond free slots (only while jobs are shorter than a fetch) |
/// | `dead_limits` | 10,000 jobs, 180 days per queue | bounds of the dead set |
/// | `migrate_on_start` | false | apply pending schema migrations at start-up |
/// | `status_ttl` | 5 min | how long a job's status (progress, result) is kept after its last update |
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerConfig {
    /// Queues and their order.
    pub queues: QueueOrder,
    /// Jobs run at once.
    pub concurrency: usize,
    /// Lease length.
    pub lease: Duration,
    /// Lease renewal period.
    pub heartbeat_interval: Duration,
    /// Period of the search for lapsed leases.
    pub reap_interval: Duration,
    /// Time in-flight jobs get to finish after a stop signal.
    pub shutdown_grace: Duration,
    /// How often queues found empty are asked again anyway (a wake-up may
    /// have been lost), whether the worker is idle or busy.
    pub idle_poll_interval: Duration,
    /// Wait on the ready lists of queues found empty with a blocking
    /// `BLMOVE` (`store/ready_watch.rs` in jobqueue-core), so the next
    /// push reaches the worker without the producer's published wake-up.
    /// Off: idle workers wait for the wake-up alone.
    pub watch_ready: bool,
    /// How soon a queue held back by its running limit is asked again when
    /// no freed slot woke the worker first (the fallback: a job ending
    /// anywhere wakes the waiting workers at once).
    pub limit_recheck_interval: Duration,
    /// Most jobs leased per fetch call.
    pub max_fetch_batch: usize,
    /// Extra jobs held beyond free slots.
    pub prefetch: Prefetch,
    /// Dead set bounds.
    pub dead_limits: DeadLimits,
    /// Apply pending schema migrations at start-up.
    pub migrate_on_start: bool,
    /// How long a job's status (progress, result) is kept after its last update.
    pub status_ttl: Duration,
}

/// Default lease length.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            queues: QueueOrder::Registered,
            concurrency: 10,
            lease: DEFAULT_LEASE,
            heartbeat_interval: DEFAULT_LEASE / 6,
            reap_interval: DEFAULT_LEASE / 6,
            shutdown_grace: Duration::from_secs(25),
            idle_poll_interval: Duration::from_secs(2),
            watch_ready: true,
            limit_recheck_interval: Duration::from_millis(50),
            max_fetch_batch: 100,
            prefetch: Prefetch::Auto,
            dead_limits: DeadLimits::default(),
            migrate_on_start: false,
            status_ttl: jobqueue_core::client::status::DEFAULT_STATUS_TTL,
        }
    }
}

impl WorkerConfig {
    /// Checks the settings fit together; returns what is wrong otherwise.
    pub fn validate(&self) -> Result<(), String> {
        let names = self.queues.names();
        // `Registered` is resolved (to at least one queue) at start.
        if names.is_empty() && self.queues != QueueOrder::Registered {
            return Err("at least one queue is needed".into());
        }
        for name in &names {
            jobqueue_core::store::keys::validate_queue_name(name).map_err(|e| e.to_string())?;
        }
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != names.len() {
            return Err("a queue is listed twice".into());
        }
        if let QueueOrder::Weighted(weighted) = &self.queues
            && weighted.iter().any(|(_, w)| *w == 0)
        {
            return Err("queue weights must be at least 1".into());
        }
        if self.concurrency == 0 {
            return Err("concurrency must be at least 1".into());
        }
        if self.lease < Duration::from_millis(500) {
            return Err("lease must be at least 500 ms".into());
        }
        if self.heartbeat_interval.is_zero() || self.heartbeat_interval * 2 > self.lease {
            return Err(format!(
                "heartbeat interval ({:?}) must be positive and at most half the lease ({:?})",
                self.heartbeat_interval, self.lease
            ));
        }
        if self.reap_interval.is_zero()
            || self.idle_poll_interval.is_zero()
            || self.limit_recheck_interval.is_zero()
        {
            return Err("reap, idle-poll and limit-recheck intervals must be positive".into());
        }
        if self.max_fetch_batch == 0 {
            return Err("max fetch batch must be at least 1".into());
        }
        if self.dead_limits.max_jobs == 0 {
            return Err("the dead set must keep at least one job".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(WorkerConfig::default().validate(), Ok(()));
        let config = WorkerConfig {
            queues: QueueOrder::Strict(Vec::new()),
            ..WorkerConfig::default()
        };
        assert!(config.validate().is_err());
    }

    #[test]
    fn rejects_settings_that_would_lose_leases() {
        let config = WorkerConfig {
            heartbeat_interval: Duration::from_secs(20),
            ..WorkerConfig::default()
        };
        assert!(config.validate().is_err());
        let config = WorkerConfig {
            queues: QueueOrder::Strict(vec!["a".into(), "a".into()]),
            ..WorkerConfig::default()
        };
        assert!(config.validate().is_err());
        let config = WorkerConfig {
            queues: QueueOrder::Weighted(vec![("a".into(), 0)]),
            ..WorkerConfig::default()
        };
        assert!(config.validate().is_err());
    }
}
