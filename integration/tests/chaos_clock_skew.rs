//! Chaos scenario 6: clock skew. Workers whose wall clock is ten minutes
//! ahead or behind (libfaketime shifts every local time reading in the
//! process) run next to a correct one. They must not run delayed jobs
//! early, and must not reclaim live leases (nor have theirs reclaimed):
//! every time decision is made on Redis's clock (DESIGN.md invariant 5).
//! That the skew is real is checked from the heartbeat time each worker
//! publishes from its own clock.
//!
//! Size: `JQ_CHAOS_SKEW_MINUTES` (CI 10), `JQ_CHAOS_SKEW_DELAYED` (delayed
//! jobs, CI 300).

use std::time::{Duration, Instant};

use chrono::Utc;
use jobqueue_integration::chaos::skew::skewed_clock_env;
use jobqueue_integration::chaos::{DeliveryAudit, Figures, Fleet, param};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on};
use jobqueue_testing::eventually;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const LEASE: Duration = Duration::from_secs(2);
const LONG_JOB: Duration = Duration::from_secs(5);
const DELAY: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_with_skewed_clocks_neither_run_early_nor_steal_live_leases() {
    let minutes = param("skew_minutes", 10) as i64;
    let delayed = param("skew_delayed", 300);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-skew").await;
    let queue = env.client().store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;
    spec.concurrency = 5;
    let mut fleet = Fleet::start(WORKER, spec.clone(), queue.clone(), 1).await;
    let mut ahead_spec = spec.clone();
    ahead_spec.env = skewed_clock_env(minutes);
    let mut ahead = Fleet::start(WORKER, ahead_spec, queue.clone(), 1).await;
    let mut behind_spec = spec;
    behind_spec.env = skewed_clock_env(-minutes);
    let mut behind = Fleet::start(WORKER, behind_spec, queue, 1).await;

    // The skew is real: each worker stamps its heartbeat with its own clock.
    let skew_of = |id: String| {
        let admin = env.client().admin();
        async move {
            let info = admin.workers().await.unwrap();
            let me = info.iter().find(|w| w.id == id).expect("worker registered");
            (me.last_beat_at - Utc::now()).num_seconds()
        }
    };
    let ahead_by = skew_of(ahead.worker_ids()[0].clone()).await;
    let behind_by = skew_of(behind.worker_ids()[0].clone()).await;
    let skew_s = minutes * 60;
    assert!(
        (ahead_by - skew_s).abs() < 30,
        "the fast worker's clock is {ahead_by} s off"
    );
    assert!(
        (behind_by + skew_s).abs() < 30,
        "the slow worker's clock is {behind_by} s off"
    );

    // Long jobs, several lease lengths each, spread over all three workers
    // while every one of them looks for lapsed leases.
    let mut long_ids = Vec::new();
    for tag in 0..15 {
        let mut job = env.test_job();
        job.sleep_ms = LONG_JOB.as_millis() as u64;
        job.tag = tag;
        long_ids.push(env.client().enqueue(job).await.unwrap());
    }
    // Delayed jobs, due DELAY after the enqueue began.
    let enqueued_at = Instant::now();
    let jobs = (0..delayed).map(|tag| {
        let mut job = env.test_job();
        job.tag = 1000 + tag;
        env.client().job(job).delay(DELAY).prepare().unwrap()
    });
    let delayed_ids = env
        .client()
        .enqueue_prepared(jobs.collect::<Vec<_>>())
        .await
        .unwrap();
    let delayed_keys: Vec<String> = delayed_ids.iter().map(ToString::to_string).collect();
    let mut early = 0;
    // Watch until just before they are due (minus a margin for this loop).
    while enqueued_at.elapsed() < DELAY - Duration::from_millis(300) {
        let started = env.started().await;
        early = delayed_keys
            .iter()
            .filter(|id| started.contains_key(*id))
            .count();
        assert_eq!(
            early, 0,
            "{early} delayed jobs started before they were due"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut all = long_ids.clone();
    all.extend(&delayed_ids);
    assert!(
        eventually(Duration::from_secs(30), || async {
            env.done_count().await >= all.len() as u64
        })
        .await,
        "the jobs did not all finish"
    );
    let due_to_done = enqueued_at.elapsed();

    let audit = DeliveryAudit::of(&env, &all).await;
    audit.assert_none_lost();
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(info.reclaimed, 0, "a live lease was reclaimed");
    assert_eq!(audit.duplicate_starts, 0, "a job ran twice");
    for fleet in [&mut fleet, &mut ahead, &mut behind] {
        assert!(fleet.stop_all(Duration::from_secs(15)).await);
    }

    Figures::new("clock_skew")
        .delivery(&audit)
        .set("skew_minutes", minutes)
        .set("measured_ahead_s", ahead_by)
        .set("measured_behind_s", behind_by)
        .set("long_jobs", long_ids.len() as u64)
        .set("delayed_jobs", delayed)
        .set("started_early", early as u64)
        .set("reclaimed", info.reclaimed)
        .set("delay_ms", DELAY.as_millis() as u64)
        .set("enqueue_to_all_done_ms", due_to_done.as_millis() as u64)
        .publish();
}
