//! Chaos scenario 3: Redis is SIGKILLed mid-run and restarted from its
//! append-only file (`appendfsync always`; `everysec` in a second long run,
//! which survives a process crash too — see docs/reliability.md for what it
//! can lose when the whole machine dies). Every enqueue the producer got
//! an id for must run; while Redis is down the producer gets errors, not
//! hangs; workers reconnect with backoff (connection attempts are counted
//! on the dead port, and after the restart with `INFO stats`), then drain
//! everything.
//!
//! Size: `JQ_CHAOS_REDIS_RESTART_CRASHES` (CI 1), `JQ_CHAOS_REDIS_DOWN_MS`
//! (downtime per crash, CI 3,000), `JQ_CHAOS_REDIS_FSYNC` (`always`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jobqueue_integration::chaos::{
    ConnectionCounter, DeliveryAudit, Figures, Fleet, param, param_text, queue_info,
};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on};
use jobqueue_testing::TestRedis;
use tokio::sync::Mutex;
use uuid::Uuid;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const WORKERS: usize = 2;

/// What the producer saw.
#[derive(Default)]
struct ProducerLog {
    accepted: Vec<Uuid>,
    errors: u64,
    slowest_error: Duration,
    slowest_call: Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_crash_loses_no_acknowledged_job_and_nobody_spins() {
    let crashes = param("redis_restart_crashes", 1);
    let down = Duration::from_millis(param("redis_down_ms", 3_000));
    let fsync = param_text("redis_fsync", "always");
    let mut server = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", &fsync]);
    let env = Arc::new(test_redis_on(&server.url(), "chaos-redis-restart").await);
    let queue = env.client().store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = 3000;
    let mut fleet = Fleet::start(WORKER, spec, queue, WORKERS).await;

    // The producer sends one job every 10 ms; it holds off while `paused`,
    // so connection attempts on the dead port are the workers' alone.
    let log = Arc::new(Mutex::new(ProducerLog::default()));
    let producing = Arc::new(AtomicBool::new(true));
    let paused = Arc::new(AtomicBool::new(false));
    let producer = tokio::spawn({
        let (env, log) = (Arc::clone(&env), Arc::clone(&log));
        let (producing, paused) = (Arc::clone(&producing), Arc::clone(&paused));
        async move {
            let mut tag = 0;
            while producing.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if paused.load(Ordering::Relaxed) {
                    continue;
                }
                let mut job = env.test_job();
                job.tag = tag;
                tag += 1;
                let called = Instant::now();
                let outcome =
                    tokio::time::timeout(Duration::from_secs(30), env.client().enqueue(job)).await;
                let took = called.elapsed();
                let mut log = log.lock().await;
                log.slowest_call = log.slowest_call.max(took);
                match outcome {
                    Ok(Ok(id)) => log.accepted.push(id),
                    Ok(Err(_)) => {
                        log.errors += 1;
                        log.slowest_error = log.slowest_error.max(took);
                    }
                    Err(_) => panic!("an enqueue hung for 30 s while Redis was down"),
                }
            }
        }
    });

    let mut attempts_while_down = 0;
    let mut connections_after_restart = 0;
    for _ in 0..crashes {
        tokio::time::sleep(Duration::from_secs(2)).await;
        server.kill();
        // Let the producer meet the dead server, then count the workers alone.
        let errors_before = log.lock().await.errors;
        let deadline = Instant::now() + Duration::from_secs(10);
        while log.lock().await.errors < errors_before + 3 {
            assert!(Instant::now() < deadline, "the producer got no error");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        paused.store(true, Ordering::Relaxed);
        let counter = ConnectionCounter::listen(server.port());
        tokio::time::sleep(down).await;
        attempts_while_down += counter.stop();
        server.restart();
        paused.store(false, Ordering::Relaxed);
        // Everyone reconnects; count the connections over the next 3 s.
        tokio::time::sleep(Duration::from_secs(3)).await;
        connections_after_restart += connections_received(&env).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    producing.store(false, Ordering::Relaxed);
    producer.await.unwrap();
    let log = log.lock().await;

    assert!(
        env.wait_done(log.accepted.len(), Duration::from_secs(60))
            .await,
        "the workers did not drain the queue after the restart"
    );
    let audit = DeliveryAudit::of(&env, &log.accepted).await;
    audit.assert_none_lost();
    assert!(log.errors >= 3 * crashes);
    let info = queue_info(&env).await;
    // Downtime longer than the lease lets leases lapse on Redis's clock;
    // a job runs again only if its lease was reclaimed.
    assert!(
        audit.duplicate_starts <= info.reclaimed + info.failed,
        "{} extra runs, {} reclaims, {} failed attempts",
        audit.duplicate_starts,
        info.reclaimed,
        info.failed
    );
    assert!(
        log.slowest_error < Duration::from_secs(10),
        "a failing enqueue took {:?}",
        log.slowest_error
    );
    let down_s = down.as_secs_f64() * crashes as f64;
    let attempts_per_worker_s = attempts_while_down as f64 / down_s / WORKERS as f64;
    // A tight loop makes thousands of attempts a second; backoff a handful.
    assert!(
        attempts_per_worker_s < 40.0,
        "{attempts_while_down} connection attempts in {down_s} s from {WORKERS} workers"
    );
    // Each process needs a few connections (commands, pub/sub, the test
    // job's trace connection per runtime thread) and may retry a few while
    // Redis loads its AOF; a herd or a spinning client would need hundreds.
    assert!(
        connections_after_restart <= 30 * (WORKERS as u64 + 1) * crashes,
        "{connections_after_restart} connections in the 3 s after the restart"
    );
    assert!(fleet.stop_all(Duration::from_secs(15)).await);
    let info = queue_info(&env).await;
    assert_eq!((info.ready, info.active, info.dead), (0, 0, 0));

    Figures::new(&format!("redis_restart_{fsync}"))
        .delivery(&audit)
        .set("appendfsync", fsync.as_str())
        .set("crashes", crashes)
        .set("down_ms_each", down.as_millis() as u64)
        .set("producer_errors", log.errors)
        .set(
            "slowest_failed_enqueue_ms",
            log.slowest_error.as_millis() as u64,
        )
        .set("slowest_enqueue_ms", log.slowest_call.as_millis() as u64)
        .set("reconnect_attempts_while_down", attempts_while_down)
        .set("reconnect_attempts_per_worker_s", attempts_per_worker_s)
        .set("connections_in_3s_after_restart", connections_after_restart)
        .set("reclaimed", info.reclaimed)
        .publish();
}

/// `total_connections_received` of `INFO stats` (counted since the restart).
async fn connections_received(env: &TestRedis) -> u64 {
    let mut conn = env.connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("total_connections_received:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("total_connections_received in INFO stats")
}
