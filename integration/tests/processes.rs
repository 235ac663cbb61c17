//! Real worker processes: killed with SIGKILL, stopped with SIGTERM, and
//! several sharing one queue (DESIGN.md invariants 1 and 2).

use std::time::{Duration, Instant};

use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{TestJobTraces, WorkerProcess, test_redis};
use jobqueue_testing::eventually;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_jobs_run_again_elsewhere_and_none_is_lost() {
    let env = test_redis("sigkill").await;
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = 1500;
    spec.concurrency = 10;
    let victim = WorkerProcess::start(WORKER, &spec);
    let mut ids = Vec::new();
    for _ in 0..10 {
        let mut job = env.test_job();
        job.sleep_ms = 1000;
        ids.push(env.client().enqueue(job).await.unwrap());
    }
    // Wait until the victim holds all ten, mid-job, then kill it.
    assert!(
        eventually(Duration::from_secs(10), || async {
            env.started().await.len() == 10
        })
        .await
    );
    let admin = env.client().admin();
    assert_eq!(admin.queue("default").await.unwrap().active, 10);
    victim.kill();
    let killed_at = Instant::now();

    let survivor = WorkerProcess::start(WORKER, &spec);
    assert!(
        env.wait_done(10, Duration::from_secs(20)).await,
        "every job ran to the end"
    );
    let recovered_in = killed_at.elapsed();
    let done = env.done().await;
    let started = env.started().await;
    for id in &ids {
        assert_eq!(done.get(&id.to_string()), Some(&1), "{id} finished once");
        assert_eq!(
            started.get(&id.to_string()),
            Some(&2),
            "{id} ran again after the kill"
        );
    }
    // Lease 1.5 s + reap interval + a 1 s job: well under 10 s.
    assert!(
        recovered_in < Duration::from_secs(10),
        "recovered in {recovered_in:?}"
    );
    let info = admin.queue("default").await.unwrap();
    assert_eq!((info.ready, info.active, info.dead), (0, 0, 0));
    assert_eq!(info.reclaimed, 10);
    // The second run is counted as a new attempt.
    let attempts = env.attempts().await;
    assert!(
        attempts.iter().filter(|a| a.ends_with(":2")).count() == 10,
        "{attempts:?}"
    );
    survivor.terminate();
    assert!(survivor.wait(Duration::from_secs(10)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_hands_unfinished_jobs_back_at_once() {
    let env = test_redis("sigterm-handback").await;
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.grace_ms = 300;
    spec.lease_ms = 30_000; // a lapse would take 30 s: hand-back must not wait for it
    let worker = WorkerProcess::start(WORKER, &spec);
    for _ in 0..5 {
        let mut job = env.test_job();
        job.sleep_ms = 60_000;
        job.ignore_cancel = true;
        env.client().enqueue(job).await.unwrap();
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            env.started().await.len() == 5
        })
        .await
    );
    let stopped = Instant::now();
    worker.terminate();
    assert!(worker.wait(Duration::from_secs(10)), "worker exits cleanly");
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "took {:?}",
        stopped.elapsed()
    );
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(
        (info.ready, info.active),
        (5, 0),
        "handed back, not left leased"
    );
    assert!(env.client().admin().workers().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_running_jobs_finish() {
    let env = test_redis("sigterm-finish").await;
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.grace_ms = 10_000;
    let worker = WorkerProcess::start(WORKER, &spec);
    for _ in 0..8 {
        let mut job = env.test_job();
        job.sleep_ms = 700;
        env.client().enqueue(job).await.unwrap();
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            env.started().await.len() == 8
        })
        .await
    );
    worker.terminate();
    assert!(worker.wait(Duration::from_secs(15)));
    let done = env.done().await;
    assert_eq!(done.len(), 8);
    assert!(
        done.values().all(|runs| *runs == 1),
        "no duplicates: {done:?}"
    );
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!((info.ready, info.active, info.processed), (0, 0, 8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_delayed_jobs_are_promoted_exactly_once_by_four_workers() {
    let env = test_redis("four-schedulers").await;
    let spec = WorkerSpec::new(env.url(), env.prefix());
    let workers: Vec<WorkerProcess> = (0..4)
        .map(|_| WorkerProcess::start(WORKER, &spec))
        .collect();
    let jobs = (0..1000u64).map(|n| {
        let mut job = env.test_job();
        job.tag = n;
        env.client()
            .job(job)
            .delay(Duration::from_millis(1000 + n % 1000))
            .prepare()
            .unwrap()
    });
    let ids = env
        .client()
        .enqueue_prepared(jobs.collect::<Vec<_>>())
        .await
        .unwrap();
    assert!(env.wait_done(1000, Duration::from_secs(30)).await);
    let started = env.started().await;
    assert_eq!(started.len(), 1000);
    for id in &ids {
        assert_eq!(
            started.get(&id.to_string()),
            Some(&1),
            "{id} promoted and run once"
        );
    }
    for worker in workers {
        worker.terminate();
        assert!(worker.wait(Duration::from_secs(10)));
    }
}
