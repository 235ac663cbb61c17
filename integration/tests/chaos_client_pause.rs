//! Chaos scenario: Redis stalls every client (`CLIENT PAUSE … ALL`) for
//! longer than the workers' response timeout, several times, while worker
//! processes run traced jobs. Calls sent during a pause time out in the
//! worker although Redis applies them once the pause ends, and leases lapse
//! meanwhile. The counters must still be exact: `processed` equals the
//! successful runs the jobs themselves recorded (one per job: each job is
//! acknowledged once, by the worker that still held it), `failed` stays 0,
//! and nothing is lost. Before issue 12 a timed-out counter flush was sent
//! again after Redis had applied it, and the counts ran 7–10% over.
//!
//! The job traces go to a second Redis that is never paused, so the jobs
//! themselves never fail.
//!
//! Size: `JQ_CHAOS_PAUSE_JOBS` (CI 3,000), `JQ_CHAOS_PAUSE_JOB_MS` (each
//! job's sleep, CI 200), `JQ_CHAOS_PAUSE_COUNT` (CI 2), `JQ_CHAOS_PAUSE_MS`
//! (each pause, CI 6,500: above the 5 s response timeout).

use std::time::{Duration, Instant};

use jobqueue_integration::chaos::{DeliveryAudit, Figures, Fleet, param, producer};
use jobqueue_integration::traces::trace_len;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const WORKERS: usize = 3;
const LEASE: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_stay_exact_through_pauses_longer_than_the_response_timeout() {
    let jobs = param("pause_jobs", 3_000);
    let pauses = param("pause_count", 2);
    let pause = Duration::from_millis(param("pause_ms", 6_500));
    let server = RedisServer::start();
    let traces = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-pause").await;
    let queue = env.client().store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;
    let mut template = env.test_job();
    template.url = traces.url();
    template.sleep_ms = param("pause_job_ms", 200);
    let ids = producer::enqueue_traced(&env, jobs, &template).await;
    let mut fleet = Fleet::start(WORKER, spec, queue, WORKERS).await;
    let started = Instant::now();

    let mut conn = redis::Client::open(env.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let done_key = format!("{}:done", env.trace_key());
    for _ in 0..pauses {
        // Let the workers get going (or recover) between pauses.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let _: () = redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(pause.as_millis() as u64)
            .arg("ALL")
            .query_async(&mut conn)
            .await
            .unwrap();
        tokio::time::sleep(pause).await;
    }
    let done_by_pauses_end = trace_len(&traces.url(), &done_key).await;
    let deadline = Instant::now() + Duration::from_secs(60 + jobs / 100);
    while trace_len(&traces.url(), &done_key).await < jobs {
        assert!(Instant::now() < deadline, "the run did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let run_time = started.elapsed();
    assert!(
        done_by_pauses_end < jobs,
        "every job finished before the last pause ended: the run is too short"
    );
    assert!(fleet.stop_all(Duration::from_secs(20)).await);

    let audit = DeliveryAudit::read(&traces.url(), &env.trace_key(), &ids).await;
    audit.assert_none_lost();
    let admin = env.client().admin();
    let info = admin.queue("default").await.unwrap();
    assert_eq!(
        (info.ready, info.active, info.retry, info.dead),
        (0, 0, 0, 0),
        "{info:?}"
    );
    let succeeded_runs = jobqueue_integration::traces::trace_counts(&traces.url(), &done_key)
        .await
        .len() as u64;
    assert_eq!(succeeded_runs, jobs);
    assert_eq!(
        (info.processed, info.failed),
        (succeeded_runs, 0),
        "counters drifted from the jobs' own records: {info:?}"
    );
    let totals = admin.totals().await.unwrap();
    assert_eq!((totals.processed, totals.failed), (succeeded_runs, 0));

    Figures::new("client_pause")
        .delivery(&audit)
        .set("workers", WORKERS as u64)
        .set("pauses", pauses)
        .set("pause_ms", pause.as_millis() as u64)
        .set("lease_ms", LEASE.as_millis() as u64)
        .set("reclaimed", info.reclaimed)
        .set("processed", info.processed)
        .set("failed", info.failed)
        .set("run_s", run_time.as_secs_f64())
        .publish();
}
