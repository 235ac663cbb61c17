//! Chaos scenario 2: a rolling deploy. Four workers run a steady flow of
//! short jobs plus a few long ones; each worker in turn gets SIGTERM,
//! exits, and is replaced. Short jobs finish within the grace period and
//! must run exactly once; long jobs outlive the grace period and must be
//! handed back at once (not left to a lease lapse: the lease here is a
//! minute, far longer than the whole run may take); nothing is lost.
//!
//! Size: `JQ_CHAOS_ROLLING_ROUNDS` (restarts of every worker, CI 1).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jobqueue_integration::chaos::{DeliveryAudit, Figures, Fleet, param};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const WORKERS: usize = 4;
const GRACE: Duration = Duration::from_secs(2);
const LEASE: Duration = Duration::from_secs(60);
const LONG_JOBS: u64 = 8;
const LONG_JOB: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_hands_back_at_once_and_runs_short_jobs_exactly_once() {
    let rounds = param("rolling_rounds", 1);
    let server = RedisServer::start();
    let env = Arc::new(test_redis_on(&server.url(), "chaos-rolling").await);
    let queue = env.client().store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;
    spec.grace_ms = GRACE.as_millis() as u64;
    let mut fleet = Fleet::start(WORKER, spec, queue, WORKERS).await;
    let started = Instant::now();

    let mut long_ids = Vec::new();
    let enqueue_long_jobs = async |count: u64, long_ids: &mut Vec<uuid::Uuid>| {
        for _ in 0..count {
            let mut job = env.test_job();
            job.tag = long_ids.len() as u64;
            job.sleep_ms = LONG_JOB.as_millis() as u64;
            job.ignore_cancel = true;
            long_ids.push(env.client().enqueue(job).await.unwrap());
        }
    };
    enqueue_long_jobs(LONG_JOBS, &mut long_ids).await;
    let flowing = Arc::new(AtomicBool::new(true));
    let producer = tokio::spawn({
        let env = Arc::clone(&env);
        let flowing = Arc::clone(&flowing);
        async move {
            let mut ids = Vec::new();
            while flowing.load(Ordering::Relaxed) {
                let jobs = (0..20).map(|n| {
                    let mut job = env.test_job();
                    job.tag = 1000 + n;
                    job.sleep_ms = 30;
                    job
                });
                ids.extend(env.client().enqueue_bulk(jobs).await.unwrap());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            ids
        }
    });

    let mut restarts = 0u64;
    let mut slowest_stop = Duration::ZERO;
    for _ in 0..rounds {
        for _ in 0..WORKERS {
            // Keep long jobs in flight at every stop, not only the first.
            enqueue_long_jobs(2, &mut long_ids).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            // The oldest worker is at index 0 (replacements go to the end).
            let (clean, took) = fleet.stop(0, Duration::from_secs(20)).await;
            assert!(clean, "a worker did not exit cleanly after SIGTERM");
            slowest_stop = slowest_stop.max(took);
            fleet.add().await;
            restarts += 1;
        }
    }
    flowing.store(false, Ordering::Relaxed);
    let short_ids = producer.await.unwrap();

    let mut all_ids = short_ids.clone();
    all_ids.extend(&long_ids);
    let rolled_at = Instant::now();
    assert!(
        env.wait_done(all_ids.len(), Duration::from_secs(40)).await,
        "not every job finished"
    );
    let run_time = started.elapsed();
    let drain_time = rolled_at.elapsed();
    let short = DeliveryAudit::of(&env, &short_ids).await;
    short.assert_none_lost();
    assert_eq!(
        (short.duplicate_starts, short.duplicate_finishes),
        (0, 0),
        "short jobs finish within the grace period and must run exactly once"
    );
    let long = DeliveryAudit::of(&env, &long_ids).await;
    long.assert_none_lost();
    // A long job cut off at the end of the grace period runs again from the
    // start; it may even have done its work just before it was dropped
    // (`duplicate_finishes`), which is why handlers must be idempotent.
    assert!(long.duplicate_starts > 0, "the long jobs were interrupted");
    // Jobs handed back at the last stop finish one long-job length later;
    // had they waited for their lease, it would take a minute.
    assert!(
        drain_time < LONG_JOB + Duration::from_secs(20),
        "the last jobs took {drain_time:?} to finish: handed-back jobs waited for the lease"
    );
    assert!(fleet.stop_all(Duration::from_secs(20)).await);
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(info.reclaimed, 0, "no job waited for a lease to lapse");
    assert_eq!((info.ready, info.active, info.dead), (0, 0, 0));

    Figures::new("rolling_restart")
        .delivery(&DeliveryAudit::of(&env, &all_ids).await)
        .set("restarts", restarts)
        .set("short_jobs", short.accepted)
        .set("short_duplicates", short.duplicate_starts)
        .set("long_jobs", long.accepted)
        .set("long_job_restarts", long.duplicate_starts)
        .set("long_jobs_finished_twice", long.duplicate_finishes)
        .set("grace_ms", GRACE.as_millis() as u64)
        .set("slowest_stop_ms", slowest_stop.as_millis() as u64)
        .set("reclaimed_by_lease_expiry", info.reclaimed)
        .set("drain_after_last_stop_ms", drain_time.as_millis() as u64)
        .set("run_s", run_time.as_secs_f64())
        .publish();
}
