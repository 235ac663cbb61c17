//! Chaos scenario: handlers that block their thread (`std::thread::sleep`,
//! as blocking or CPU-bound code without `spawn_blocking` does) for longer
//! than the lease, with a timeout far shorter than the block (issue 12,
//! point 7). The worker's housekeeping (lease renewal, reaper, promoter,
//! shutdown) runs on its own thread with its own Redis connection, so:
//!
//! * the blocked worker's lease stays renewed and another worker running
//!   beside it reclaims nothing: each blocking job runs once;
//! * a job that returned `Ok` after its timeout (it could not be stopped
//!   while it held the thread) is recorded as succeeded — acknowledged
//!   once, counted in `processed`, not retried;
//! * a graceful shutdown hands a blocked job back within its grace period
//!   (plus the cancel steps), not after the block ends.
//!
//! Size: `JQ_CHAOS_BLOCKING_JOBS` (ordinary jobs run beside the blocked
//! ones, CI 500), `JQ_CHAOS_BLOCKING_MS` (each block, CI 6,000: 3 leases).

use std::time::{Duration, Instant};

use jobqueue_integration::chaos::{Figures, param};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::worker_process::{WorkerProcess, WorkerSpec};
use jobqueue_integration::{TestJobTraces, test_redis};
use jobqueue_testing::eventually;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const LEASE: Duration = Duration::from_secs(2);
const TIMEOUT: Duration = Duration::from_secs(1);

/// The Redis clock, ms.
async fn redis_now_ms(conn: &mut redis::aio::MultiplexedConnection) -> f64 {
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(conn).await.unwrap();
    secs as f64 * 1000.0 + micros as f64 / 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_worker_keeps_its_leases_and_its_late_success_counts_once() {
    let ordinary = param("blocking_jobs", 500);
    let block = Duration::from_millis(param("blocking_ms", 3 * LEASE.as_millis() as u64));
    let env = test_redis("chaos-blocking").await;
    let keys = env.client().store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;
    // As many slots as the process has runtime threads: two blocking jobs
    // hold every thread the jobs run on.
    spec.concurrency = 2;
    let blocked = WorkerProcess::start(WORKER, &spec);
    // One job first, so the worker is up and running jobs before the
    // blocking ones come. Their trace records may still wait as long as the
    // other one blocks the second runtime thread: the test job's connection
    // for blocking jobs waits 30 s for a reply (not redis-rs's 500 ms, which
    // failed such a job once in CI: it ran again), and the worker gives a
    // job kept from its thread past its limit one more window
    // (`jobqueue-worker/src/run/job_watch.rs`).
    env.client().enqueue(env.test_job()).await.unwrap();
    assert!(
        env.wait_done(1, Duration::from_secs(10)).await,
        "the warm-up job ran"
    );
    let blocking = TestJob {
        block_ms: block.as_millis() as u64,
        ..env.test_job()
    };
    let mut blocking_ids = Vec::new();
    for _ in 0..2 {
        let id = env
            .client()
            .job(blocking.clone())
            .timeout(TIMEOUT)
            .enqueue()
            .await
            .unwrap();
        blocking_ids.push(id.to_string());
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            env.started().await.len() == 3
        })
        .await,
        "the blocking jobs did not start"
    );
    let blocks_started = Instant::now();
    // Another worker runs beside it, reaping every lease / 6.
    let mut beside = spec.clone();
    beside.concurrency = 10;
    let other = WorkerProcess::start(WORKER, &beside);
    let mut plain = env.test_job();
    plain.sleep_ms = 5;
    jobqueue_integration::chaos::producer::enqueue_traced(&env, ordinary, &plain).await;

    // While the jobs block, the blocked worker's lease stays in the future.
    let mut conn = env.connection().await.unwrap();
    let mut least_margin_ms = f64::MAX;
    while blocks_started.elapsed() < block {
        let deadline: Option<f64> = redis::cmd("ZSCORE")
            .arg(keys.leases())
            .arg(&blocked.worker_id)
            .query_async(&mut conn)
            .await
            .unwrap();
        let now = redis_now_ms(&mut conn).await;
        let margin = deadline.map_or(f64::MIN, |at| at - now);
        least_margin_ms = least_margin_ms.min(margin);
        assert!(
            margin > 0.0,
            "the blocked worker's lease lapsed {:?} into the block (margin {margin} ms)",
            blocks_started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let total = ordinary + 3;
    assert!(
        env.wait_done(total as usize, Duration::from_secs(60 + ordinary / 20))
            .await,
        "not every job finished"
    );
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(10), || async {
            let info = admin.queue("default").await.unwrap();
            info.ready + info.active + info.retry == 0
        })
        .await
    );
    let info = admin.queue("default").await.unwrap();
    let started = env.started().await;
    let done = env.done().await;
    for id in &blocking_ids {
        assert_eq!(
            started.get(id),
            Some(&1),
            "blocking job {id} ran again: {info:?}"
        );
        assert_eq!(done.get(id), Some(&1));
    }
    assert_eq!(info.reclaimed, 0, "a live worker's jobs were reclaimed");
    assert_eq!(
        (info.processed, info.failed, info.dead),
        (total, 0, 0),
        "the late successes are successes, counted once: {info:?}"
    );
    let duplicate_starts: u64 = started.values().map(|n| n - 1).sum();
    assert_eq!(duplicate_starts, 0);

    let mut blocked = blocked;
    assert!(blocked.is_running());
    blocked.terminate();
    other.terminate();
    assert!(blocked.wait(Duration::from_secs(20)));
    assert!(other.wait(Duration::from_secs(20)));
    Figures::new("blocking_handler")
        .set("block_ms", block.as_millis() as u64)
        .set("timeout_ms", TIMEOUT.as_millis() as u64)
        .set("lease_ms", LEASE.as_millis() as u64)
        .set("least_lease_margin_ms", least_margin_ms.max(0.0) as u64)
        .set("ordinary_jobs", ordinary)
        .set("reclaimed", info.reclaimed)
        .set("duplicate_starts", duplicate_starts)
        .set("processed", info.processed)
        .set("failed", info.failed)
        .publish();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_hands_a_blocked_job_back_within_its_grace() {
    let env = test_redis("chaos-blocking-stop").await;
    let block = Duration::from_secs(20);
    let grace = Duration::from_secs(1);
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;
    spec.grace_ms = grace.as_millis() as u64;
    spec.concurrency = 1;
    let worker = WorkerProcess::start(WORKER, &spec);
    let job = TestJob {
        block_ms: block.as_millis() as u64,
        ..env.test_job()
    };
    env.client().job(job).no_timeout().enqueue().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            env.started().await.len() == 1
        })
        .await
    );
    let stopping = Instant::now();
    worker.terminate();
    let admin = env.client().admin();
    // Grace, then a second for cancelled jobs to stop and one more for
    // them to be dropped, then the hand-back; with generous slack for a
    // loaded machine, and far below the block.
    let limit = grace + Duration::from_secs(2) + Duration::from_secs(5);
    assert!(
        eventually(limit, || async {
            let info = admin.queue("default").await.unwrap();
            info.ready == 1 && info.active == 0
        })
        .await,
        "the blocked job was not handed back within {limit:?} of SIGTERM"
    );
    let handed_back_after = stopping.elapsed();
    assert!(handed_back_after < block);
    // The process itself exits once the blocked thread lets go.
    assert!(worker.wait(block + Duration::from_secs(20)));
    Figures::new("blocking_handler_shutdown")
        .set("block_ms", block.as_millis() as u64)
        .set("grace_ms", grace.as_millis() as u64)
        .set("handed_back_after_ms", handed_back_after.as_millis() as u64)
        .publish();
}
