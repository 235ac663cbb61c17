//! What the worker process measures while the benchmark jobs run: when the
//! first run started, how many measured jobs succeeded (and when all of
//! them have), and their latency samples. The job records into it through
//! a process-wide global, which only the benchmark's worker process sets.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use tokio::sync::Notify;

use super::clock::now_ns;

/// The worker process's measurements.
pub(crate) struct Measurements {
    target: u64,
    first_start_ns: AtomicI64,
    measured: AtomicU64,
    samples_ms: Mutex<Vec<f64>>,
    /// `limits`: each run's (start, end), ns since the epoch.
    runs: Mutex<Vec<(i64, i64)>>,
    all_ran: Notify,
}

static MEASUREMENTS: OnceLock<Measurements> = OnceLock::new();

/// Starts measuring `target` jobs in this process.
pub(crate) fn start(target: u64) -> Result<&'static Measurements, String> {
    let _ = MEASUREMENTS.set(Measurements {
        target,
        first_start_ns: AtomicI64::new(0),
        measured: AtomicU64::new(0),
        samples_ms: Mutex::new(Vec::with_capacity(target as usize)),
        runs: Mutex::new(Vec::new()),
        all_ran: Notify::new(),
    });
    MEASUREMENTS
        .get()
        .ok_or_else(|| "measurements not initialised".to_owned())
}

/// Called when any benchmark job run starts.
pub(crate) fn mark_started() {
    if let Some(m) = MEASUREMENTS.get()
        && m.first_start_ns.load(Ordering::Relaxed) == 0
    {
        let _ =
            m.first_start_ns
                .compare_exchange(0, now_ns(), Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// Called when a measured job run succeeds; `stamp_ns` is when it was
/// sent or due, for its latency sample.
pub(crate) fn record_success(stamp_ns: Option<i64>) {
    let Some(m) = MEASUREMENTS.get() else {
        return;
    };
    let now = now_ns();
    let sample = stamp_ns.map(|t| (now - t) as f64 / 1e6);
    if let Some(sample) = sample
        && let Ok(mut samples) = m.samples_ms.lock()
    {
        samples.push(sample);
    }
    if m.measured.fetch_add(1, Ordering::Relaxed) + 1 == m.target {
        m.all_ran.notify_one();
    }
}

/// Called when a `limits` job ran from `start_ns` to `end_ns`.
pub(crate) fn record_run(start_ns: i64, end_ns: i64) {
    if let Some(m) = MEASUREMENTS.get()
        && let Ok(mut runs) = m.runs.lock()
    {
        runs.push((start_ns, end_ns));
    }
}

impl Measurements {
    /// The runs recorded by [`record_run`].
    pub(crate) fn runs(&self) -> Vec<(i64, i64)> {
        self.runs.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Returns once every measured job has succeeded.
    pub(crate) async fn all_ran(&self) {
        if self.measured.load(Ordering::Relaxed) < self.target {
            self.all_ran.notified().await;
        }
    }

    /// When the first job run started (ns since the epoch; 0 if none did).
    pub(crate) fn first_start_ns(&self) -> i64 {
        self.first_start_ns.load(Ordering::Relaxed)
    }

    /// The latency samples, ms.
    pub(crate) fn samples_ms(&self) -> Vec<f64> {
        self.samples_ms
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }
}
