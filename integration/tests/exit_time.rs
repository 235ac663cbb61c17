//! A worker process exits promptly once it stopped: a SIGTERM to an idle
//! worker that ran jobs, holds a retry and a delayed job and a cron entry
//! (what a first real app had when it saw every mode take about 1.3 s to
//! exit after "stopped") ends the process well within a second.

use std::time::{Duration, Instant};

use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{WorkerProcess, test_redis};
use jobqueue_testing::eventually;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_worker_process_exits_at_once() {
    let env = test_redis("exit-time").await;
    let client = env.client();
    let key = format!("{}:runs", env.prefix());
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.grace_ms = 5000;
    spec.env.push((
        "JQ_CRON".into(),
        format!("every-minute|0 * * * * *|{}:probe", env.prefix()),
    ));
    let mut slowest = Duration::ZERO;
    for _ in 0..3 {
        let worker = WorkerProcess::start(WORKER, &spec);
        let job = |fail_times| TestJob {
            fail_times,
            ..TestJob::new(env.url(), &key)
        };
        client.enqueue(job(0)).await.unwrap();
        client.enqueue(job(1)).await.unwrap(); // waits in the retry set
        client
            .enqueue_in(Duration::from_secs(600), job(0))
            .await
            .unwrap();
        let ran = eventually(Duration::from_secs(10), || {
            let admin = client.admin();
            async move {
                admin
                    .queue("default")
                    .await
                    .map(|q| q.retry >= 1)
                    .unwrap_or(false)
            }
        })
        .await;
        assert!(ran, "the jobs did not run");
        let signalled = Instant::now();
        worker.terminate();
        assert!(
            worker.wait(Duration::from_secs(10)),
            "the worker failed to stop"
        );
        slowest = slowest.max(signalled.elapsed());
    }
    // Measured at 3-10 ms from "worker stopped" to exit; the shutdown
    // itself is a few Redis calls.
    assert!(
        slowest < Duration::from_millis(800),
        "a worker took {slowest:?} to exit"
    );
}
