//! Flow limits of a queue, across worker processes: at most N running at
//! once, at most R started per period; held-back jobs are neither failed
//! nor charged an attempt.

use std::time::Duration;

use jobqueue_core::{QueueLimits, RateLimit};
use jobqueue_integration::probe::{ProbeJob, probe_starts};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{WorkerProcess, test_redis};
use jobqueue_testing::{TestRedis, eventually};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

fn start_workers(env: &TestRedis, n: usize) -> Vec<WorkerProcess> {
    let spec = WorkerSpec::new(env.url(), env.prefix());
    (0..n)
        .map(|_| WorkerProcess::start(WORKER, &spec))
        .collect()
}

fn stop(workers: Vec<WorkerProcess>) {
    for worker in &workers {
        worker.terminate();
    }
    for worker in workers {
        assert!(worker.wait(Duration::from_secs(15)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_n_jobs_of_a_queue_run_at_once_across_processes() {
    let env = test_redis("limit-running").await;
    let key = format!("{}:probe", env.prefix());
    let admin = env.client().admin();
    let limits = QueueLimits {
        max_running: Some(3),
        rate: None,
    };
    admin.set_queue_limits("default", limits).await.unwrap();
    assert_eq!(admin.queue_limits("default").await.unwrap(), limits);
    let hold_ms = 300;
    let jobs: Vec<ProbeJob> = (0..24)
        .map(|_| ProbeJob {
            hold_ms,
            ..ProbeJob::new(env.url(), &key)
        })
        .collect();
    env.client().enqueue_bulk(jobs).await.unwrap();
    // Three processes with ten slots each: only the limit holds them back.
    let workers = start_workers(&env, 3);
    assert!(
        eventually(Duration::from_secs(30), || async {
            probe_starts(env.url(), &key).await.len() == 24
        })
        .await
    );
    stop(workers);
    let starts = probe_starts(env.url(), &key).await;
    assert!(
        starts.iter().all(|s| s.attempt == 1),
        "held-back jobs were charged an attempt"
    );
    // Each job holds its lease for at least `hold_ms` after its start: more
    // than 3 starts within any such window would be 4 running at once.
    let mut times: Vec<i64> = starts.iter().map(|s| s.started_ms).collect();
    times.sort_unstable();
    for (i, &t) in times.iter().enumerate() {
        let overlapping = times[..=i]
            .iter()
            .filter(|&&s| s > t - hold_ms as i64)
            .count();
        assert!(
            overlapping <= 3,
            "{overlapping} jobs running at once: {times:?}"
        );
    }
    // And the limit was actually used (not one job at a time).
    assert!(
        times.windows(3).any(|w| w[2] - w[0] < hold_ms as i64),
        "never 3 at once: {times:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_holds_across_processes_without_failing_jobs() {
    let env = test_redis("limit-rate").await;
    let key = format!("{}:probe", env.prefix());
    let admin = env.client().admin();
    admin
        .set_queue_limits(
            "default",
            QueueLimits {
                max_running: None,
                rate: Some(RateLimit::bucket(5, Duration::from_secs(1))),
            },
        )
        .await
        .unwrap();
    let workers = start_workers(&env, 2);
    let began = chrono::Utc::now().timestamp_millis();
    env.client()
        .enqueue_bulk((0..20).map(|_| ProbeJob::new(env.url(), &key)))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(30), || async {
            probe_starts(env.url(), &key).await.len() == 20
        })
        .await
    );
    let starts = probe_starts(env.url(), &key).await;
    assert!(starts.iter().all(|s| s.attempt == 1));
    let mut times: Vec<i64> = starts.iter().map(|s| s.started_ms).collect();
    times.sort_unstable();
    // A burst of 5, then 5 per second: 20 jobs take at least 3 s.
    let span = times[19] - began;
    assert!(span >= 2800, "20 jobs in {span} ms under 5/s");
    // Token bucket: in any 1 s window at most 5 (refill) + 5 (burst).
    for (i, &t) in times.iter().enumerate() {
        let in_window = times[i..].iter().filter(|&&s| s < t + 1000).count();
        assert!(
            in_window <= 10,
            "{in_window} starts in one second: {times:?}"
        );
    }

    // Clearing the limits lets the next batch through at once.
    admin.clear_queue_limits("default").await.unwrap();
    assert_eq!(
        admin.queue_limits("default").await.unwrap(),
        QueueLimits::default()
    );
    let cleared = std::time::Instant::now();
    env.client()
        .enqueue_bulk((0..20).map(|_| ProbeJob::new(env.url(), &key)))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            probe_starts(env.url(), &key).await.len() == 40
        })
        .await
    );
    assert!(
        cleared.elapsed() < Duration::from_millis(2500),
        "still limited after clearing"
    );
    stop(workers);

    // Nonsense limits are refused.
    let zero = QueueLimits {
        max_running: Some(0),
        rate: None,
    };
    assert!(admin.set_queue_limits("default", zero).await.is_err());
}
