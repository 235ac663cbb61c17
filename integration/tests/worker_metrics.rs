//! The worker's own metrics through the `metrics` facade: a recorder
//! installed by the application sees jobs by queue, type and outcome, run
//! times, fetch round trips and busy slots.
//!
//! One test: it installs the process-wide recorder.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::eventually;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

/// Records every series in memory, by name and sorted labels.
#[derive(Default)]
struct MemoryRecorder {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
    gauges: Mutex<HashMap<String, Arc<AtomicU64>>>,
    histograms: Mutex<HashMap<String, Arc<Samples>>>,
}

#[derive(Default)]
struct Samples(Mutex<Vec<f64>>);

impl metrics::HistogramFn for Samples {
    fn record(&self, value: f64) {
        self.0.lock().unwrap().push(value);
    }
}

fn series(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for MemoryRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut counters = self.counters.lock().unwrap();
        Counter::from_arc(counters.entry(series(key)).or_default().clone())
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let mut gauges = self.gauges.lock().unwrap();
        Gauge::from_arc(gauges.entry(series(key)).or_default().clone())
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let mut histograms = self.histograms.lock().unwrap();
        Histogram::from_arc(histograms.entry(series(key)).or_default().clone())
    }
}

impl MemoryRecorder {
    fn counter(&self, series: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(series)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    fn samples(&self, series: &str) -> Vec<f64> {
        self.histograms
            .lock()
            .unwrap()
            .get(series)
            .map(|h| h.0.lock().unwrap().clone())
            .unwrap_or_default()
    }

    fn gauge(&self, series: &str) -> Option<f64> {
        self.gauges
            .lock()
            .unwrap()
            .get(series)
            .map(|g| f64::from_bits(g.load(Ordering::Relaxed)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_reports_runs_failures_timings_and_slots() {
    let recorder: &'static MemoryRecorder = Box::leak(Box::default());
    metrics::set_global_recorder(recorder).expect("first recorder");
    let env = test_redis("metrics").await;
    let queue = format!("m{}", &env.prefix()[env.prefix().len() - 6..]);
    for _ in 0..5 {
        env.client()
            .job(env.test_job())
            .queue(&queue)
            .enqueue()
            .await
            .unwrap();
    }
    let flaky = TestJob {
        fail_times: 1,
        ..env.test_job()
    };
    env.client()
        .job(flaky)
        .queue(&queue)
        .enqueue()
        .await
        .unwrap();
    let hopeless = TestJob {
        permanent: true,
        ..env.test_job()
    };
    env.client()
        .job(hopeless)
        .queue(&queue)
        .enqueue()
        .await
        .unwrap();

    // Blocks its thread past its timeout, then returns Ok: a success that
    // exceeded its timeout, with a blocking poll.
    let hog = TestJob {
        block_ms: 300,
        ..env.test_job()
    };
    env.client()
        .job(hog)
        .queue(&queue)
        .timeout(Duration::from_millis(100))
        .enqueue()
        .await
        .unwrap();

    let worker = test_worker(&env)
        .queues([queue.as_str()])
        .concurrency(4)
        .start()
        .await
        .unwrap();
    assert!(env.wait_done(7, Duration::from_secs(15)).await);
    let finished = |outcome: &str| {
        recorder.counter(&format!(
            "jobqueue_jobs_finished_total{{job_type=test_job,outcome={outcome},queue={queue}}}"
        ))
    };
    // A job's trace is written while it runs, its outcome counted after it
    // returns: wait for the counters too.
    assert!(
        eventually(Duration::from_secs(5), || async { finished("dead") == 1 }).await,
        "dead run counted"
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            finished("succeeded") >= 7
        })
        .await,
        "successful runs counted"
    );
    assert_eq!(finished("succeeded"), 7);
    assert_eq!(finished("retried"), 1);
    let durations = recorder.samples(&format!(
        "jobqueue_job_duration_seconds{{job_type=test_job,queue={queue}}}"
    ));
    assert_eq!(durations.len(), 9, "one sample per run");
    assert!(
        durations.iter().all(|s| *s >= 0.0 && *s < 10.0),
        "{durations:?}"
    );
    let fetches = recorder.samples(&format!("jobqueue_fetch_duration_seconds{{queue={queue}}}"));
    assert!(!fetches.is_empty());
    assert_eq!(
        recorder.counter(&format!("jobqueue_fetched_jobs_total{{queue={queue}}}")),
        9,
        "every run was fetched once"
    );
    let labels = format!("{{job_type=test_job,queue={queue}}}");
    assert_eq!(
        recorder.counter(&format!("jobqueue_job_timeout_exceeded_total{labels}")),
        1,
        "the blocking job returned after its timeout"
    );
    let exceeded = recorder.samples(&format!("jobqueue_job_timeout_exceeded_seconds{labels}"));
    assert!(exceeded.len() == 1 && exceeded[0] >= 0.15, "{exceeded:?}");
    assert!(recorder.counter(&format!("jobqueue_job_blocking_polls_total{labels}")) >= 1);
    let blocked = recorder.samples(&format!("jobqueue_job_blocking_poll_seconds{labels}"));
    assert!(blocked.iter().any(|s| *s >= 0.29), "{blocked:?}");
    assert_eq!(recorder.gauge("jobqueue_concurrency{}"), Some(4.0));
    assert_eq!(
        recorder.gauge("jobqueue_busy_slots{}"),
        Some(0.0),
        "idle at the end"
    );
    worker.shutdown().await;
}
