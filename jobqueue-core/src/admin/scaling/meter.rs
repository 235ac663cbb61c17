//! [`ThroughputMeter`]: how fast a queue's jobs finish, measured from its
//! `processed` counter and its running jobs sampled over a window. Pure
//! (the caller passes the time of each sample), so a simulation can drive
//! it with a fake clock.
//!
//! Per queue it keeps the samples of the last window (at most
//! [`MAX_SAMPLES_PER_QUEUE`]) and answers
//!
//! - jobs per second = Δprocessed / Δt over the window;
//! - jobs per slot-second = Δprocessed / busy slot-seconds, the busy
//!   slot-seconds being the running-jobs samples integrated over time
//!   (trapezoids). It is only given when at least
//!   [`MIN_BUSY_SLOT_SECONDS`] were seen: with jobs much shorter than the
//!   sampling interval the running samples read 0 and the formula falls
//!   back to the configured default instead of a made-up pace.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Most samples kept per queue (older ones are dropped first).
pub const MAX_SAMPLES_PER_QUEUE: usize = 256;

/// Fewest busy slot-seconds over the window for a per-slot pace to count.
pub const MIN_BUSY_SLOT_SECONDS: f64 = 1.0;

/// One reading of a queue.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    at_ms: i64,
    processed: u64,
    running: u64,
}

/// What the meter measured for one queue.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Throughput {
    /// Jobs succeeded per second over the window (0 with fewer than two
    /// samples).
    pub jobs_per_second: f64,
    /// Jobs one busy slot finished per second, when measurable.
    pub jobs_per_slot_second: Option<f64>,
}

/// Samples per queue over a sliding window.
#[derive(Debug, Clone)]
pub struct ThroughputMeter {
    window_ms: i64,
    samples: HashMap<String, VecDeque<Sample>>,
}

impl ThroughputMeter {
    /// A meter over `window` (at least 1 s).
    pub fn new(window: Duration) -> Self {
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        Self {
            window_ms: window_ms.max(1000),
            samples: HashMap::new(),
        }
    }

    /// Records `queue`'s counter and running jobs at `now_ms` and returns
    /// what the window now shows. A counter that went down or a clock that
    /// went back starts the queue's window afresh.
    pub fn observe(
        &mut self,
        queue: &str,
        now_ms: i64,
        processed: u64,
        running: u64,
    ) -> Throughput {
        let samples = self.samples.entry(queue.to_owned()).or_default();
        if samples
            .back()
            .is_some_and(|last| last.at_ms > now_ms || last.processed > processed)
        {
            samples.clear();
        }
        if samples.back().is_some_and(|last| last.at_ms == now_ms) {
            samples.pop_back();
        }
        samples.push_back(Sample {
            at_ms: now_ms,
            processed,
            running,
        });
        // Keep one sample at or before the window's start, so the window
        // is covered whole even when samples are sparse.
        while samples.len() > MAX_SAMPLES_PER_QUEUE
            || samples
                .get(1)
                .is_some_and(|second| second.at_ms <= now_ms.saturating_sub(self.window_ms))
        {
            samples.pop_front();
        }
        measure(samples)
    }

    /// Forgets the queues not in `queues` (removed from the registry).
    pub fn retain(&mut self, queues: &[String]) {
        self.samples.retain(|queue, _| queues.contains(queue));
    }
}

fn measure(samples: &VecDeque<Sample>) -> Throughput {
    let (Some(first), Some(last)) = (samples.front(), samples.back()) else {
        return Throughput::default();
    };
    let span_s = (last.at_ms - first.at_ms) as f64 / 1000.0;
    if span_s <= 0.0 {
        return Throughput::default();
    }
    let done = last.processed.saturating_sub(first.processed) as f64;
    let busy_slot_seconds: f64 = samples
        .iter()
        .zip(samples.iter().skip(1))
        .map(|(a, b)| (a.running + b.running) as f64 / 2.0 * (b.at_ms - a.at_ms) as f64 / 1000.0)
        .sum();
    Throughput {
        jobs_per_second: done / span_s,
        jobs_per_slot_second: (busy_slot_seconds >= MIN_BUSY_SLOT_SECONDS && done > 0.0)
            .then(|| done / busy_slot_seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_pace_per_queue_and_per_slot() {
        let mut meter = ThroughputMeter::new(Duration::from_secs(60));
        assert_eq!(meter.observe("q", 0, 100, 4), Throughput::default());
        // 4 slots busy for 10 s finished 20 jobs: 2 jobs/s, 0.5 per slot-s.
        let t = meter.observe("q", 10_000, 120, 4);
        assert_eq!(t.jobs_per_second, 2.0);
        assert_eq!(t.jobs_per_slot_second, Some(0.5));
        // Another queue has its own window.
        assert_eq!(meter.observe("other", 10_000, 5, 0), Throughput::default());
    }

    #[test]
    fn the_window_slides_and_idle_falls_to_zero() {
        let mut meter = ThroughputMeter::new(Duration::from_secs(30));
        meter.observe("q", 0, 0, 1);
        meter.observe("q", 10_000, 10, 1);
        // Nothing more finishes: after the window only idle samples remain.
        meter.observe("q", 20_000, 10, 0);
        meter.observe("q", 50_000, 10, 0);
        let t = meter.observe("q", 60_000, 10, 0);
        assert_eq!(t.jobs_per_second, 0.0);
        assert_eq!(t.jobs_per_slot_second, None);
    }

    #[test]
    fn short_jobs_sampled_idle_give_no_per_slot_pace() {
        let mut meter = ThroughputMeter::new(Duration::from_secs(60));
        meter.observe("q", 0, 0, 0);
        let t = meter.observe("q", 10_000, 500, 0);
        assert_eq!(t.jobs_per_second, 50.0);
        assert_eq!(t.jobs_per_slot_second, None);
    }

    #[test]
    fn a_reset_counter_or_clock_starts_afresh_and_memory_is_bounded() {
        let mut meter = ThroughputMeter::new(Duration::from_secs(3600));
        meter.observe("q", 0, 1000, 1);
        assert_eq!(meter.observe("q", 1000, 10, 1), Throughput::default());
        assert_eq!(meter.observe("q", 500, 20, 1), Throughput::default());
        for i in 0..1000 {
            meter.observe("q", 1000 + i, 20 + i as u64, 1);
        }
        assert_eq!(meter.samples["q"].len(), MAX_SAMPLES_PER_QUEUE);
        meter.retain(&[]);
        assert!(meter.samples.is_empty());
    }
}
