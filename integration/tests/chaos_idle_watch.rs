//! Chaos scenario: idle workers killed while they watch. Three worker
//! processes sit idle in their ready watch (`BLMOVE` on the ready list)
//! while jobs arrive one at a time, pushed with a raw `RPUSH` and no
//! published wake-up, so only the watch (or a replacement's first fetch)
//! can find them; the fallback poll is a minute. Every 300-600 ms a random
//! worker is SIGKILLed — mid-wait, mid-fetch or mid-job — and replaced.
//! Nothing pushed may be lost, every duplicate run must be explained by a
//! killed worker's in-flight jobs, nothing may be left behind, and the
//! jobs must have run long before any poll could have found them. Then,
//! with the kills over, each of 20 more jobs pushed the same way must
//! start within a second: only a watch can find them.
//!
//! Size: `JQ_CHAOS_WATCH_JOBS` (CI 300, `scripts/chaos` 3,000),
//! `JQ_CHAOS_WATCH_JOB_MS` (each job's sleep, CI 20 ms).

use std::time::{Duration, Instant};

use jobqueue_integration::chaos::{DeliveryAudit, Figures, Fleet, param};
use jobqueue_integration::raw_push::push_without_wake_up;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on};
use jobqueue_testing::eventually;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const WORKERS: usize = 3;
const LEASE: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_workers_killed_while_watching_lose_nothing() {
    let jobs = param("watch_jobs", 300);
    let job_ms = param("watch_job_ms", 20);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-watch").await;
    let queue = env.client().store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;
    spec.env
        .push(("JQ_IDLE_POLL_MS".to_owned(), "60000".to_owned()));
    let mut fleet = Fleet::start(WORKER, spec, queue.clone(), WORKERS).await;
    let mut push = env.connection().await.unwrap();

    let started = Instant::now();
    let mut ids = Vec::new();
    let mut kills = Vec::new();
    let mut next_kill = Instant::now() + Duration::from_millis(fastrand::u64(300..600));
    for tag in 0..jobs {
        let mut job = env.test_job();
        job.tag = tag;
        job.sleep_ms = job_ms;
        ids.push(push_without_wake_up(&mut push, &queue, &job).await);
        tokio::time::sleep(Duration::from_millis(fastrand::u64(5..25))).await;
        if Instant::now() >= next_kill {
            let victim = fastrand::usize(..fleet.len());
            kills.push(fleet.kill_and_replace(victim).await);
            next_kill = Instant::now() + Duration::from_millis(fastrand::u64(300..600));
        }
    }
    // Well within the minute-long poll of the last push: only the watches
    // (and the reclaim of killed workers' jobs, which wakes the watches
    // too) find the jobs. (In a long run a worker that outlives a minute
    // polls too; the second phase below is the strict check.)
    let pushed = Instant::now();
    let deadline = Duration::from_secs(40);
    while env.done_count().await < jobs {
        assert!(
            pushed.elapsed() < deadline,
            "{} of {jobs} jobs ran within {deadline:?} of the last push",
            env.done_count().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let run_time = started.elapsed();

    // The fleet as the kills left it, now left alone: every job pushed
    // (no wake-up, the poll a minute away, no replacement starting) must
    // be found by a watch within a second.
    for tag in jobs..jobs + 20 {
        let mut job = env.test_job();
        job.tag = tag;
        let id = push_without_wake_up(&mut push, &queue, &job).await;
        ids.push(id);
        let id = id.to_string();
        let ran = eventually(Duration::from_secs(1), || async {
            env.done().await.contains_key(&id)
        })
        .await;
        assert!(
            ran,
            "job {tag}, pushed after the kills, waited over a second"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let jobs = jobs + 20;
    assert!(
        kills.len() >= 3,
        "only {} kills: the run is too short to test anything",
        kills.len()
    );

    let audit = DeliveryAudit::of(&env, &ids).await;
    audit.assert_none_lost();
    let in_flight_at_kills: u64 = kills.iter().map(|k| k.in_flight).sum();
    assert!(
        audit.duplicate_starts <= in_flight_at_kills,
        "{} duplicate runs, but the killed workers held only {in_flight_at_kills} jobs",
        audit.duplicate_starts
    );
    for kill in kills.iter_mut() {
        let recovered = (&mut kill.recovery).await.expect("recovery watcher");
        assert!(
            recovered.is_some(),
            "the {} jobs of killed worker {} were never reclaimed",
            kill.in_flight,
            kill.worker_id
        );
    }
    assert!(fleet.stop_all(Duration::from_secs(15)).await);
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(
        (info.ready, info.active, info.retry, info.dead),
        (0, 0, 0, 0),
        "nothing is left behind: {info:?}"
    );
    assert_eq!(info.processed, jobs, "each job counted once: {info:?}");

    Figures::new("idle_watch_kills")
        .delivery(&audit)
        .set("workers", WORKERS as u64)
        .set("kills", kills.len() as u64)
        .set("in_flight_at_kills", in_flight_at_kills)
        .set("run_s", run_time.as_secs_f64())
        .publish();
}
