//! The autoscaling formula: how many worker processes a queue wants, from
//! what it holds and how fast a worker slot runs its jobs. A pure function
//! of its inputs (no clock, no Redis), so it is tested on its own and a
//! simulation can drive it with a fake clock.
//!
//! ```text
//! r        = jobs per slot-second: measured, else the configured default (floor 0.001)
//! T        = latency target, seconds
//! pending  = ready (0 while paused) + scheduled and retries due within the lead time
//!            + cron entries with a tick within the lead time
//! busy     = max(running, jobs per second / r)         slots busy now or at the measured pace
//! slots    = busy + pending / (r × T)                  slots that start every pending job within T
//! desired  = clamp(ceil(slots / concurrency), min, max)
//! ```
//!
//! Any pending or running job, or any throughput in the window, makes
//! `slots` positive and so asks for at least one worker (unless `max` is
//! 0): a deployment scaled to zero is woken a lead time before delayed
//! jobs, retries and cron ticks come due.

use std::time::Duration;

use serde::Serialize;

/// Least jobs per slot-second the formula uses, so a very slow measured
/// pace cannot divide by (almost) zero.
pub const MIN_JOBS_PER_SLOT_SECOND: f64 = 0.001;

/// What one queue's workers are asked to achieve, and their bounds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingTargets {
    /// Every ready job should start within this long (default 30 s).
    #[serde(serialize_with = "seconds")]
    pub latency_target: Duration,
    /// Jobs and cron ticks due within this long count as pending now, so
    /// workers start before they are due (default 120 s: the time a new
    /// worker takes to be scheduled, pulled and started, with margin).
    #[serde(serialize_with = "seconds")]
    pub lead_time: Duration,
    /// Slots (concurrent jobs) of one worker process (default 10).
    pub worker_concurrency: u32,
    /// Fewest workers asked for (default 0: scale to zero).
    pub min_workers: u32,
    /// Most workers asked for (default 20).
    pub max_workers: u32,
    /// Jobs one slot runs per second when nothing was measured yet
    /// (default 1: jobs of about a second).
    pub default_jobs_per_slot_second: f64,
}

impl Default for ScalingTargets {
    fn default() -> Self {
        Self {
            latency_target: Duration::from_secs(30),
            lead_time: Duration::from_secs(120),
            worker_concurrency: 10,
            min_workers: 0,
            max_workers: 20,
            default_jobs_per_slot_second: 1.0,
        }
    }
}

fn seconds<S: serde::Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(value.as_secs_f64())
}

/// What the formula reads about one queue at one instant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScalingInputs {
    /// Jobs ready to run (ready list and priority set).
    pub ready: u64,
    /// True while the queue is paused: its ready jobs wait for a resume,
    /// not for workers.
    pub paused: bool,
    /// Jobs leased by workers.
    pub running: u64,
    /// Scheduled jobs due by now + lead time (overdue ones included).
    pub scheduled_due: u64,
    /// Retries (and durable jobs waking) due by now + lead time.
    pub retry_due: u64,
    /// Cron entries (not paused) with a tick within the lead time.
    pub cron_due: u64,
    /// Jobs succeeded per second over the measuring window (0 when not
    /// measured).
    pub jobs_per_second: f64,
    /// Jobs one busy slot finished per second over the window, when
    /// enough work ran to measure it.
    pub measured_jobs_per_slot_second: Option<f64>,
}

/// The formula's answer for one queue, with the figures it used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingSignal {
    /// Worker processes wanted, within `[min_workers, max_workers]`.
    pub desired_workers: u32,
    /// Slots wanted before rounding up to whole workers and clamping.
    pub desired_slots: f64,
    /// Jobs counted as pending: ready (unless paused), due within the lead
    /// time, cron ticks within the lead time.
    pub pending: u64,
    /// Jobs per slot-second used (measured, else the default).
    pub jobs_per_slot_second: f64,
    /// Whether `jobs_per_slot_second` was measured.
    pub measured: bool,
}

/// The worker processes `targets` ask for, given `inputs` (module docs).
pub fn desired_workers(inputs: &ScalingInputs, targets: &ScalingTargets) -> ScalingSignal {
    let (rate, measured) = match inputs.measured_jobs_per_slot_second {
        Some(rate) if rate.is_finite() && rate > 0.0 => (rate, true),
        _ => (targets.default_jobs_per_slot_second, false),
    };
    let rate = if rate.is_finite() {
        rate.max(MIN_JOBS_PER_SLOT_SECOND)
    } else {
        MIN_JOBS_PER_SLOT_SECOND
    };
    let ready = if inputs.paused { 0 } else { inputs.ready };
    let pending = ready
        .saturating_add(inputs.scheduled_due)
        .saturating_add(inputs.retry_due)
        .saturating_add(inputs.cron_due);
    let latency_s = targets.latency_target.as_secs_f64().max(0.001);
    let throughput = if inputs.jobs_per_second.is_finite() {
        inputs.jobs_per_second.max(0.0)
    } else {
        0.0
    };
    let busy = (inputs.running as f64).max(throughput / rate);
    let desired_slots = busy + pending as f64 / (rate * latency_s);
    let concurrency = f64::from(targets.worker_concurrency.max(1));
    // Float noise must not turn 2 slots of 2-slot workers into 2 workers.
    let workers = ((desired_slots / concurrency) - 1e-9).ceil().max(0.0);
    let workers = if workers >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        workers as u32
    };
    ScalingSignal {
        desired_workers: workers.max(targets.min_workers).min(targets.max_workers),
        desired_slots,
        pending,
        jobs_per_slot_second: rate,
        measured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> ScalingTargets {
        ScalingTargets {
            latency_target: Duration::from_secs(10),
            lead_time: Duration::from_secs(60),
            worker_concurrency: 5,
            min_workers: 0,
            max_workers: 8,
            default_jobs_per_slot_second: 2.0,
        }
    }

    #[test]
    fn idle_queue_wants_no_worker() {
        let signal = desired_workers(&ScalingInputs::default(), &targets());
        assert_eq!(signal.desired_workers, 0);
        assert_eq!(signal.desired_slots, 0.0);
        assert!(!signal.measured);
    }

    #[test]
    fn backlog_is_drained_within_the_latency_target() {
        // 200 jobs at 2 jobs/slot-s within 10 s: 10 slots = 2 workers of 5.
        let inputs = ScalingInputs {
            ready: 200,
            ..ScalingInputs::default()
        };
        let signal = desired_workers(&inputs, &targets());
        assert_eq!(signal.desired_slots, 10.0);
        assert_eq!(signal.desired_workers, 2);
        // One more job needs a third worker.
        let signal = desired_workers(
            &ScalingInputs {
                ready: 201,
                ..inputs
            },
            &targets(),
        );
        assert_eq!(signal.desired_workers, 3);
    }

    #[test]
    fn running_jobs_keep_their_slots_and_max_caps() {
        let inputs = ScalingInputs {
            ready: 100_000,
            running: 7,
            ..ScalingInputs::default()
        };
        assert_eq!(desired_workers(&inputs, &targets()).desired_workers, 8);
        let inputs = ScalingInputs {
            running: 7,
            ..ScalingInputs::default()
        };
        assert_eq!(desired_workers(&inputs, &targets()).desired_workers, 2);
    }

    #[test]
    fn one_due_job_or_cron_tick_wakes_one_worker() {
        for inputs in [
            ScalingInputs {
                scheduled_due: 1,
                ..ScalingInputs::default()
            },
            ScalingInputs {
                retry_due: 1,
                ..ScalingInputs::default()
            },
            ScalingInputs {
                cron_due: 1,
                ..ScalingInputs::default()
            },
        ] {
            let signal = desired_workers(&inputs, &targets());
            assert_eq!(signal.desired_workers, 1, "{inputs:?}");
            assert_eq!(signal.pending, 1);
        }
    }

    #[test]
    fn a_trickle_keeps_one_worker_and_paused_backlog_none() {
        let trickle = ScalingInputs {
            jobs_per_second: 0.2,
            ..ScalingInputs::default()
        };
        assert_eq!(desired_workers(&trickle, &targets()).desired_workers, 1);
        let paused = ScalingInputs {
            ready: 1000,
            paused: true,
            ..ScalingInputs::default()
        };
        assert_eq!(desired_workers(&paused, &targets()).desired_workers, 0);
    }

    #[test]
    fn measured_pace_replaces_the_default_and_min_holds() {
        // 100 jobs at a measured 0.5 jobs/slot-s within 10 s: 20 slots.
        let inputs = ScalingInputs {
            ready: 100,
            measured_jobs_per_slot_second: Some(0.5),
            ..ScalingInputs::default()
        };
        let signal = desired_workers(&inputs, &targets());
        assert!(signal.measured);
        assert_eq!(signal.desired_slots, 20.0);
        assert_eq!(signal.desired_workers, 4);
        let floor = ScalingTargets {
            min_workers: 2,
            ..targets()
        };
        assert_eq!(
            desired_workers(&ScalingInputs::default(), &floor).desired_workers,
            2
        );
        // A nonsense measurement falls back to the default.
        let bad = ScalingInputs {
            measured_jobs_per_slot_second: Some(f64::NAN),
            ..ScalingInputs::default()
        };
        assert!(!desired_workers(&bad, &targets()).measured);
    }
}
