//! Chaos scenario 1: a SIGKILL storm. Four worker processes run traced
//! jobs while a random one is SIGKILLed every 1-2 s and replaced. Nothing
//! accepted may be lost; every duplicate run must be explained by a killed
//! worker's in-flight jobs (DESIGN.md invariant 2); nothing may be left
//! active; a dead worker's jobs must be back within lease + a few seconds;
//! and the `processed` / `failed` counters must equal the runs the jobs
//! themselves recorded (every job succeeded once in the end: exactly one
//! counted success each, no failure), however many workers died.
//!
//! Size: `JQ_CHAOS_SIGKILL_JOBS` (CI 10,000), `JQ_CHAOS_SIGKILL_JOB_MS`
//! (each job's sleep, CI 50 ms).

use std::time::{Duration, Instant};

use jobqueue_integration::chaos::{DeliveryAudit, Figures, Fleet, param, producer};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const WORKERS: usize = 4;
const LEASE: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_storm_loses_nothing_and_duplicates_only_in_flight_jobs() {
    let jobs = param("sigkill_jobs", 10_000);
    let job_ms = param("sigkill_job_ms", 50);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-sigkill").await;
    let queue = env.client().store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;

    let mut template = env.test_job();
    template.sleep_ms = job_ms;
    let ids = producer::enqueue_traced(&env, jobs, &template).await;
    let mut fleet = Fleet::start(WORKER, spec, queue, WORKERS).await;

    let started = Instant::now();
    // Generous: the whole run at a pessimistic 50 jobs/s, plus recovery.
    let deadline = started + Duration::from_secs(60 + jobs / 50);
    let mut kills = Vec::new();
    loop {
        let pause = Duration::from_millis(fastrand::u64(1000..2000));
        tokio::time::sleep(pause).await;
        if env.done_count().await >= jobs {
            break;
        }
        assert!(Instant::now() < deadline, "the storm run did not finish");
        let victim = fastrand::usize(..fleet.len());
        kills.push(fleet.kill_and_replace(victim).await);
    }
    let run_time = started.elapsed();

    assert!(
        kills.len() >= 3,
        "only {} kills: the run is too short to test anything",
        kills.len()
    );
    let audit = DeliveryAudit::of(&env, &ids).await;
    audit.assert_none_lost();
    let in_flight_at_kills: u64 = kills.iter().map(|k| k.in_flight).sum();
    let mut worst_recovery = Duration::ZERO;
    for kill in kills.iter_mut() {
        let recovered = (&mut kill.recovery).await.expect("recovery watcher");
        let recovered = recovered.unwrap_or_else(|| {
            panic!(
                "the {} jobs of killed worker {} were never reclaimed",
                kill.in_flight, kill.worker_id
            )
        });
        worst_recovery = worst_recovery.max(recovered);
    }
    assert!(
        audit.duplicate_starts <= in_flight_at_kills,
        "{} duplicate runs, but the killed workers held only {in_flight_at_kills} jobs",
        audit.duplicate_starts
    );
    // Lease + one reap interval (lease / 6, jittered) + slack for a loaded machine.
    assert!(
        worst_recovery <= LEASE + LEASE / 4 + Duration::from_secs(5),
        "a dead worker's jobs came back only after {worst_recovery:?}"
    );

    assert!(fleet.stop_all(Duration::from_secs(15)).await);
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(
        (info.ready, info.active, info.retry, info.dead),
        (0, 0, 0, 0),
        "nothing is left behind: {info:?}"
    );

    // Exact counters: each job's end was counted once, by the script that
    // recorded it for the worker still holding it; a killed worker's counts
    // died with nothing (they were never in its memory).
    let succeeded_runs = env.done().await.len() as u64;
    assert_eq!(succeeded_runs, jobs);
    assert_eq!(
        (info.processed, info.failed),
        (succeeded_runs, 0),
        "counters drifted from the jobs' own records: {info:?}"
    );
    let totals = env.client().admin().totals().await.unwrap();
    assert_eq!((totals.processed, totals.failed), (succeeded_runs, 0));

    Figures::new("sigkill_storm")
        .delivery(&audit)
        .set("workers", WORKERS as u64)
        .set("kills", kills.len() as u64)
        .set("in_flight_at_kills", in_flight_at_kills)
        .set("reclaimed", info.reclaimed)
        .set("processed", info.processed)
        .set("failed", info.failed)
        .set("lease_ms", LEASE.as_millis() as u64)
        .set("worst_recovery_ms", worst_recovery.as_millis() as u64)
        .set("run_s", run_time.as_secs_f64())
        .publish();
}
