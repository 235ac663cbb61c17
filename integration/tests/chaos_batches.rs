//! Chaos scenario 11: batches under a SIGKILL storm. Four worker processes
//! run many small batches (each with on_complete and on_success
//! callbacks) while a random worker is SIGKILLed every 0.5-1.5 s and
//! replaced. Every batch must finish with exact counts (each job counted
//! succeeded once, however often it ran), and each callback must be
//! enqueued exactly once per batch: one distinct callback job per batch
//! and kind, and no two runs of a callback starting with the same attempt
//! number (an enqueued-twice callback would; a callback re-run after its
//! worker was killed counts one more attempt, the at-least-once delivery
//! of the callback job itself, DESIGN.md invariant 2). Batches end two jobs at a time on different workers all
//! along, so the "last two jobs end together" race is exercised too.
//!
//! Size: `JQ_CHAOS_BATCHES` (CI 60 batches), `JQ_CHAOS_BATCH_JOBS` (jobs
//! per batch, CI 40), `JQ_CHAOS_BATCH_JOB_MS` (each job's sleep, CI 20 ms).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jobqueue_core::admin::BatchState;
use jobqueue_integration::chaos::{Figures, Fleet, param};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::traces::trace_counts;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on};
use jobqueue_testing::TestRedis;
use uuid::Uuid;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const WORKERS: usize = 4;
const LEASE: Duration = Duration::from_secs(3);

fn callback(env: &TestRedis, kind: &str, batch: u64) -> TestJob {
    TestJob {
        tag: batch,
        ..TestJob::new(env.url(), &format!("{}:cb:{kind}", env.prefix()))
    }
}

/// Callback runs that started with an attempt number another run of the
/// same callback job already started with: a callback enqueued twice (a
/// re-run after a killed worker's lease lapsed counts one more attempt,
/// so it is not one of these).
async fn callback_enqueued_twice(env: &TestRedis, kind: &str) -> u64 {
    let mut conn = env.connection().await.unwrap();
    let starts: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("{}:cb:{kind}:attempts", env.prefix()))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    starts
        .into_iter()
        .filter(|start| !seen.insert(start.clone()))
        .count() as u64
}

/// Callback job id → runs started.
async fn callback_starts(env: &TestRedis, kind: &str) -> HashMap<String, u64> {
    trace_counts(env.url(), &format!("{}:cb:{kind}:started", env.prefix())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_batch_callback_fires_once_under_a_sigkill_storm() {
    let batches = param("batches", 60);
    let per_batch = param("batch_jobs", 40);
    let job_ms = param("batch_job_ms", 20);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-batches").await;
    let client = env.client();
    let queue = client.store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;

    let mut ids: Vec<Uuid> = Vec::new();
    for n in 0..batches {
        let job = TestJob {
            sleep_ms: job_ms,
            tag: n,
            ..env.test_job()
        };
        let batch = client
            .batch()
            .description(format!("chaos batch {n}"))
            .on_complete(callback(&env, "complete", n))
            .on_success(callback(&env, "success", n))
            .enqueue((0..per_batch).map(|_| job.clone()))
            .await
            .unwrap();
        ids.push(batch.id());
    }
    let mut fleet = Fleet::start(WORKER, spec, queue, WORKERS).await;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60 + batches * per_batch * job_ms / 1000);
    let mut kills = Vec::new();
    let all_done = || async {
        let admin = client.admin();
        for id in &ids {
            if admin.batch("default", *id).await.unwrap().state != BatchState::Finished {
                return false;
            }
        }
        callback_starts(&env, "success").await.len() as u64 >= batches
            && callback_starts(&env, "complete").await.len() as u64 >= batches
    };
    loop {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(500..1500))).await;
        if all_done().await {
            break;
        }
        assert!(Instant::now() < deadline, "the batches did not finish");
        let victim = fastrand::usize(..fleet.len());
        kills.push(fleet.kill_and_replace(victim).await);
    }
    let run_time = started.elapsed();
    assert!(fleet.stop_all(Duration::from_secs(15)).await);
    let in_flight_at_kills: u64 = kills.iter().map(|k| k.in_flight).sum();

    let mut succeeded = 0;
    for id in &ids {
        let info = client.admin().batch("default", *id).await.unwrap();
        assert_eq!(
            (info.total, info.pending, info.succeeded, info.dead),
            (per_batch, 0, per_batch, 0),
            "batch counts drifted: {info:?}"
        );
        assert!(info.callbacks.iter().all(|cb| cb.fired_at_ms.is_some()));
        succeeded += info.succeeded;
    }
    // Every job of every batch ran to success at least once.
    assert_eq!(env.done().await.len() as u64, batches * per_batch);
    let mut callbacks_fired = 0;
    let mut callback_duplicate_starts = 0;
    let mut callback_duplicates = 0;
    for kind in ["complete", "success"] {
        callback_duplicates += callback_enqueued_twice(&env, kind).await;
        let starts = callback_starts(&env, kind).await;
        assert_eq!(
            starts.len() as u64,
            batches,
            "one {kind} callback job per batch"
        );
        callbacks_fired += starts.len() as u64;
        callback_duplicate_starts += starts.values().map(|n| n - 1).sum::<u64>();
    }
    assert_eq!(callback_duplicates, 0, "a callback was enqueued twice");
    assert!(
        callback_duplicate_starts <= in_flight_at_kills,
        "{callback_duplicate_starts} callback re-runs, more than the killed workers held"
    );
    let info = client.admin().queue("default").await.unwrap();
    assert_eq!(
        (info.ready, info.active, info.retry, info.dead),
        (0, 0, 0, 0)
    );

    Figures::new("batches_sigkill")
        .set("batches", batches)
        .set("jobs_per_batch", per_batch)
        .set("jobs_counted_succeeded", succeeded)
        .set("workers", WORKERS as u64)
        .set("kills", kills.len() as u64)
        .set("in_flight_at_kills", in_flight_at_kills)
        .set("callbacks_fired", callbacks_fired)
        .set("callback_duplicates", callback_duplicates)
        .set("callback_duplicate_starts", callback_duplicate_starts)
        .set("run_s", run_time.as_secs_f64())
        .publish();
}
