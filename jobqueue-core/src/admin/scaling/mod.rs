//! The autoscaling signal: how many worker processes each queue wants
//! (`jobqueue_desired_workers{queue}` on the dashboard's `/metrics`, and
//! `/api/v1/scaling` for KEDA), so a deployment scales out before its
//! backlog grows and wakes from zero a lead time before delayed jobs,
//! retries and cron ticks come due. See `docs/deployment.md`.
//!
//! | file | holds |
//! | --- | --- |
//! | `formula.rs` | [`desired_workers`]: the pure formula, its inputs and targets |
//! | `config.rs` | [`ScalingConfig`]: targets per queue, parsed from one line |
//! | `meter.rs` | [`ThroughputMeter`]: jobs per second and per slot-second over a window |
//! | `mod.rs` | [`Autoscaler`]: reads the inputs from Redis and applies the formula |
//!
//! Reading costs O(queues + cron entries) round trips: per queue its
//! sizes ([`Admin::queue`]), two `ZCOUNT`s, and one hash per cron entry.

mod config;
mod formula;
mod meter;

use std::sync::Mutex;

use serde::Serialize;

use crate::admin::handle::Admin;
use crate::error::Error;

pub use config::{DEFAULT_THROUGHPUT_WINDOW, ScalingConfig};
pub use formula::{
    MIN_JOBS_PER_SLOT_SECOND, ScalingInputs, ScalingSignal, ScalingTargets, desired_workers,
};
pub use meter::{MAX_SAMPLES_PER_QUEUE, MIN_BUSY_SLOT_SECONDS, Throughput, ThroughputMeter};

/// One queue's signal with what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueScaling {
    /// The queue.
    pub queue: String,
    /// The answer.
    #[serde(flatten)]
    pub signal: ScalingSignal,
    /// What was read and measured.
    pub inputs: ScalingInputs,
    /// The targets applied.
    pub targets: ScalingTargets,
}

/// Computes the signal of every queue, measuring throughput between calls.
/// Keep one per process (the dashboard keeps one in its state) and call
/// it regularly: each call is one throughput sample per queue.
#[derive(Debug)]
pub struct Autoscaler {
    config: ScalingConfig,
    meter: Mutex<ThroughputMeter>,
}

impl Autoscaler {
    /// An autoscaler with `config`'s targets and window.
    pub fn new(config: ScalingConfig) -> Self {
        Self {
            meter: Mutex::new(ThroughputMeter::new(config.window)),
            config,
        }
    }

    /// The targets and window.
    pub fn config(&self) -> &ScalingConfig {
        &self.config
    }

    /// The signal of every known queue, by the Redis clock (the clock the
    /// due times were written with).
    pub async fn signals(&self, admin: &Admin) -> Result<Vec<QueueScaling>, Error> {
        let now_ms = admin.store.redis_time_ms().await?;
        self.signals_at(admin, now_ms).await
    }

    /// The signal of every known queue at `now_ms` (ms since the epoch):
    /// due times are compared with it and the throughput sample is taken
    /// at it. [`Autoscaler::signals`] passes the Redis clock; a
    /// simulation passes its own.
    pub async fn signals_at(&self, admin: &Admin, now_ms: i64) -> Result<Vec<QueueScaling>, Error> {
        let names = admin.queue_names().await?;
        let mut read = Vec::with_capacity(names.len());
        for queue in &names {
            let targets = self.config.targets(queue);
            let lead_ms = i64::try_from(targets.lead_time.as_millis()).unwrap_or(i64::MAX);
            let (inputs, processed) = admin.scaling_inputs(queue, now_ms, lead_ms).await?;
            read.push((queue, targets, inputs, processed));
        }
        let mut meter = self
            .meter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        meter.retain(&names);
        Ok(read
            .into_iter()
            .map(|(queue, targets, mut inputs, processed)| {
                let throughput = meter.observe(queue, now_ms, processed, inputs.running);
                inputs.jobs_per_second = throughput.jobs_per_second;
                inputs.measured_jobs_per_slot_second = throughput.jobs_per_slot_second;
                QueueScaling {
                    queue: queue.clone(),
                    signal: desired_workers(&inputs, targets),
                    inputs,
                    targets: targets.clone(),
                }
            })
            .collect())
    }
}

impl Admin {
    /// What the scaling formula reads about `queue` at `now_ms` with a
    /// lead time of `lead_ms` (throughput left at zero: the
    /// [`ThroughputMeter`] measures it), and the queue's `processed`
    /// counter for the meter.
    pub async fn scaling_inputs(
        &self,
        queue: &str,
        now_ms: i64,
        lead_ms: i64,
    ) -> Result<(ScalingInputs, u64), Error> {
        let info = self.queue(queue).await?;
        let until_ms = now_ms.saturating_add(lead_ms);
        let keys = self.store.queue_keys(queue)?;
        let (scheduled_due, retry_due) = self.store.due_by(&keys, until_ms).await?;
        let cron_due = self.cron_ticks_due(queue, now_ms, until_ms).await?;
        let inputs = ScalingInputs {
            ready: info.ready,
            paused: info.paused,
            running: info.active,
            scheduled_due,
            retry_due,
            cron_due,
            jobs_per_second: 0.0,
            measured_jobs_per_slot_second: None,
        };
        Ok((inputs, info.processed))
    }
}
