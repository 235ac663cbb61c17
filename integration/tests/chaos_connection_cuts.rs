//! Chaos scenario 4: the network blips. While workers run traced jobs,
//! `CLIENT KILL TYPE normal` cuts every client connection every few hundred
//! ms, `CLIENT PAUSE` stalls every client for longer than the lease, and one
//! worker process is frozen (SIGSTOP, as in a long GC pause or a suspended
//! VM) for longer than its lease, then let go. Nothing may be lost; every
//! extra run must be explained by a lease that truly lapsed and was
//! reclaimed — once.
//!
//! The job traces go to a second Redis that is never cut, so the audit
//! sees the framework's behaviour, not the test job's own failed writes.
//!
//! Size: `JQ_CHAOS_CUTS_JOBS` (CI 6,000), `JQ_CHAOS_CUTS_EVERY_MS` (CI
//! 300), `JQ_CHAOS_CUTS_PAUSES` (pauses of 2× the lease, CI 1),
//! `JQ_CHAOS_CUTS_CHAOS_MS` (longest time under cuts, CI 40,000).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jobqueue_integration::chaos::{DeliveryAudit, Figures, Fleet, param, producer, queue_info};
use jobqueue_integration::traces::trace_len;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const WORKERS: usize = 3;
const LEASE: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cuts_pauses_and_a_frozen_worker_lose_nothing_and_reclaim_once() {
    let jobs = param("cuts_jobs", 6_000);
    let every = Duration::from_millis(param("cuts_every_ms", 300));
    let pauses = param("cuts_pauses", 1);
    let server = RedisServer::start();
    let traces = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-cuts").await;
    let queue = env.client().store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;
    let mut template = env.test_job();
    template.url = traces.url();
    template.sleep_ms = 50;
    let ids = producer::enqueue_traced(&env, jobs, &template).await;
    let mut fleet = Fleet::start(WORKER, spec, queue, WORKERS).await;
    let started = Instant::now();

    let cutting = Arc::new(AtomicBool::new(true));
    let cuts = Arc::new(AtomicU64::new(0));
    let killed = Arc::new(AtomicU64::new(0));
    let chaos = tokio::spawn({
        let (cutting, cuts, killed) =
            (Arc::clone(&cutting), Arc::clone(&cuts), Arc::clone(&killed));
        let url = env.url().to_owned();
        async move {
            // SKIPME defaults to yes: this connection survives its own kills.
            let mut conn = redis::Client::open(url)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let mut pauses_left = pauses;
            let mut round = 0u64;
            while cutting.load(Ordering::Relaxed) {
                tokio::time::sleep(every).await;
                round += 1;
                if pauses_left > 0 && round.is_multiple_of(20) {
                    pauses_left -= 1;
                    let pause_ms = 2 * LEASE.as_millis() as u64;
                    let _: () = redis::cmd("CLIENT")
                        .arg("PAUSE")
                        .arg(pause_ms)
                        .arg("ALL")
                        .query_async(&mut conn)
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(pause_ms)).await;
                    continue;
                }
                let n: u64 = redis::cmd("CLIENT")
                    .arg("KILL")
                    .arg("TYPE")
                    .arg("normal")
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                cuts.fetch_add(1, Ordering::Relaxed);
                killed.fetch_add(n, Ordering::Relaxed);
            }
        }
    });

    tokio::time::sleep(Duration::from_secs(1)).await;
    let frozen_for = 2 * LEASE + Duration::from_secs(1);
    // Freeze a worker that holds jobs (under cuts, one may be backing off).
    let victim = fleet
        .busiest(Duration::from_secs(10))
        .await
        .expect("no worker held a job");
    let held_while_frozen = fleet.stall(victim, frozen_for).await;

    // Cut until every job ran or the chaos time is up; then everything
    // left must finish promptly on healthy connections (a job stuck in a
    // live worker's active hash would not).
    let done_key = format!("{}:done", env.trace_key());
    let chaos_until = started + Duration::from_millis(param("cuts_chaos_ms", 40_000));
    let finished = |traces_url: String, done_key: String| async move {
        trace_len(&traces_url, &done_key).await >= jobs
    };
    while !finished(traces.url(), done_key.clone()).await && Instant::now() < chaos_until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let chaos_time = started.elapsed();
    cutting.store(false, Ordering::Relaxed);
    chaos.await.unwrap();
    let recovery_deadline = Instant::now() + Duration::from_secs(30 + jobs / 200);
    while !finished(traces.url(), done_key.clone()).await {
        if Instant::now() > recovery_deadline {
            let audit = DeliveryAudit::read(&traces.url(), &env.trace_key(), &ids).await;
            let places = jobqueue_integration::locate::locate_jobs(&env, "default").await;
            let info = queue_info(&env).await;
            let lost: Vec<_> = audit
                .lost_sample
                .iter()
                .map(|id| (id.clone(), places.get(&id[..36]).cloned()))
                .collect();
            panic!(
                "{} jobs did not finish after the cuts stopped: {info:?}, e.g. {lost:?}",
                audit.lost
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let run_time = started.elapsed();

    let audit = DeliveryAudit::read(&traces.url(), &env.trace_key(), &ids).await;
    audit.assert_none_lost();
    assert!(fleet.stop_all(Duration::from_secs(15)).await);
    let info = queue_info(&env).await;
    assert_eq!((info.ready, info.active, info.dead), (0, 0, 0), "{info:?}");
    assert!(held_while_frozen > 0, "the frozen worker held no job");
    assert!(
        info.reclaimed >= held_while_frozen,
        "the frozen worker's {held_while_frozen} jobs were not all reclaimed ({} reclaims)",
        info.reclaimed
    );
    // Every extra run has a recorded cause: a reclaim of a lapsed lease (a
    // job reclaimed twice would need two), or a failed attempt.
    assert!(
        audit.duplicate_starts <= info.reclaimed + info.failed,
        "{} extra runs but only {} reclaims and {} failed attempts",
        audit.duplicate_starts,
        info.reclaimed,
        info.failed
    );
    let cuts = cuts.load(Ordering::Relaxed);
    assert!(
        cuts >= 5,
        "only {cuts} cuts: the run was too short to test anything"
    );

    Figures::new("connection_cuts")
        .delivery(&audit)
        .set("workers", WORKERS as u64)
        .set("client_kill_rounds", cuts)
        .set("connections_killed", killed.load(Ordering::Relaxed))
        .set("pauses", pauses)
        .set("pause_ms", 2 * LEASE.as_millis() as u64)
        .set("frozen_worker_ms", frozen_for.as_millis() as u64)
        .set("held_while_frozen", held_while_frozen)
        .set("lease_ms", LEASE.as_millis() as u64)
        .set("reclaimed", info.reclaimed)
        .set("failed_attempts", info.failed)
        .set("max_starts", audit.max_starts)
        .set("chaos_s", chaos_time.as_secs_f64())
        .set("run_s", run_time.as_secs_f64())
        .publish();
}
