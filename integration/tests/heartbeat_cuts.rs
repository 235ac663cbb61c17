//! Heartbeats under connection cuts: Redis closes every client connection
//! more often than a worker beats. A beat that meets a connection cut since
//! the last one is sent again at once on the reconnected connection, so the
//! lease of a worker that is alive and reachable never lapses and its job
//! is neither reclaimed nor run twice. (Before, every beat met a freshly cut
//! connection, failed and waited a whole interval: the lease lapsed within
//! one lease and another worker reclaimed the running job.)

use std::time::{Duration, Instant};

use jobqueue_integration::chaos::{DeliveryAudit, queue_info};
use jobqueue_integration::traces::trace_len;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on, test_worker};
use jobqueue_testing::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_outlives_connection_cuts_more_frequent_than_its_beats() {
    // Lease 2 s (test_worker), so a beat every 333 ms; a cut every 200 ms.
    const CUT_EVERY: Duration = Duration::from_millis(200);
    const CUTTING_FOR: Duration = Duration::from_secs(5);
    let server = RedisServer::start();
    // The job's traces go to a Redis that is never cut.
    let traces = RedisServer::start();
    let env = test_redis_on(&server.url(), "beat-cuts").await;
    let holder = test_worker(&env).concurrency(1).start().await.unwrap();
    let mut job = env.test_job();
    job.url = traces.url();
    job.sleep_ms = CUTTING_FOR.as_millis() as u64 + 1000;
    let id = env.client().enqueue(job).await.unwrap();
    let started_key = format!("{}:started", env.trace_key());
    assert!(
        eventually(Duration::from_secs(10), || async {
            trace_len(&traces.url(), &started_key).await > 0
        })
        .await,
        "the job never started"
    );
    // Started only now, so it cannot take the job: it is there to reclaim
    // the holder's jobs should its lease lapse (a worker never reclaims its
    // own).
    let reaper = test_worker(&env).concurrency(1).start().await.unwrap();

    // SKIPME defaults to yes: this connection survives its own cuts.
    let mut cutter = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let leases = env
        .client()
        .store()
        .queue_keys("default")
        .unwrap()
        .leases()
        .to_owned();
    let cutting = Instant::now();
    let mut cut = 0u64;
    let mut least_margin_ms = i64::MAX;
    let mut lease_gone = false;
    while cutting.elapsed() < CUTTING_FOR {
        tokio::time::sleep(CUT_EVERY).await;
        cut += redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("normal")
            .query_async::<u64>(&mut cutter)
            .await
            .unwrap();
        // How far the holder's lease deadline is ahead of Redis's clock.
        let (deadline, (now_s, now_us)): (Option<f64>, (i64, i64)) = redis::pipe()
            .cmd("ZSCORE")
            .arg(&leases)
            .arg(holder.worker_id())
            .cmd("TIME")
            .query_async(&mut cutter)
            .await
            .unwrap();
        let now_ms = now_s * 1000 + now_us / 1000;
        match deadline {
            Some(deadline) => least_margin_ms = least_margin_ms.min(deadline as i64 - now_ms),
            None => lease_gone = true,
        }
    }
    assert!(
        cut >= 2 * (CUTTING_FOR.as_millis() / CUT_EVERY.as_millis()) as u64,
        "{cut} connections cut"
    );
    let done_key = format!("{}:done", env.trace_key());
    assert!(
        eventually(Duration::from_secs(15), || async {
            trace_len(&traces.url(), &done_key).await > 0
        })
        .await,
        "the job did not finish"
    );
    assert!(
        !lease_gone,
        "the holder's lease lapsed under the cuts and another worker reclaimed it"
    );
    assert!(
        least_margin_ms > 0,
        "the holder's lease lapsed under the cuts (its deadline {}ms behind Redis's clock)",
        -least_margin_ms
    );
    let info = queue_info(&env).await;
    assert_eq!(info.reclaimed, 0, "the holder's lease lapsed: {info:?}");
    let audit = DeliveryAudit::read(&traces.url(), &env.trace_key(), &[id]).await;
    audit.assert_none_lost();
    assert_eq!(audit.duplicate_starts, 0, "the job ran twice");
    reaper.shutdown().await;
    holder.shutdown().await;
}
