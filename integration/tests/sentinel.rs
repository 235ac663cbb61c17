//! Through Sentinel: a client and worker given `redis+sentinel://` find the
//! primary, and a `SENTINEL FAILOVER` mid-run is survived with no job lost
//! that a replica had confirmed (`ClientConfig::wait_for_replicas`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jobqueue_core::ClientConfig;
use jobqueue_integration::redis_sentinel::SentinelSetup;
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::eventually;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_mid_run_loses_no_confirmed_job() {
    let setup = SentinelSetup::start();
    // Traces go to the shared test Redis; the queues live behind Sentinel.
    let mut env = test_redis("sentinel").await;
    let config = ClientConfig::new(setup.url()).wait_for_replicas(1, Duration::from_millis(500));
    env.reconnect_with(config)
        .await
        .expect("connect through Sentinel");
    let env = Arc::new(env);
    assert_eq!(setup.primary_port(), Some(setup.primary.port()));

    let worker = test_worker(&env).queues(["a", "b"]).start().await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let env = env.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut acknowledged: Vec<Uuid> = Vec::new();
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let queue = ["a", "b"][n % 2];
                n += 1;
                match env
                    .client()
                    .job(env.test_job())
                    .queue(queue)
                    .enqueue()
                    .await
                {
                    Ok(id) => acknowledged.push(id),
                    Err(err) => tracing::info!(%err, "enqueue refused during failover"),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            acknowledged
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    tokio::task::block_in_place(|| setup.failover());
    let acknowledged_before = env.done().await.len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let acknowledged = producer.await.unwrap();
    assert!(
        acknowledged.len() > 30,
        "the producer kept going: {}",
        acknowledged.len()
    );

    let all_ran = eventually(Duration::from_secs(30), || async {
        let done = env.done().await;
        acknowledged
            .iter()
            .all(|id| done.contains_key(&id.to_string()))
    })
    .await;
    let done = env.done().await;
    let missing = acknowledged
        .iter()
        .filter(|id| !done.contains_key(&id.to_string()))
        .count();
    assert!(all_ran, "{missing} confirmed jobs never ran");
    assert!(
        done.len() > acknowledged_before,
        "jobs kept running on the new primary"
    );
    worker.shutdown().await;

    // Writes that reached the old primary between the failover and the
    // client's switch are gone — among them possibly an acknowledgement of
    // a finished job, which then still sits leased by the stopped worker and
    // was handed back at its shutdown, and enqueues refused with
    // NotReplicated that did land. A fresh worker drains all of it: nothing
    // is stuck on the new primary.
    let admin = env.client().admin();
    let second = test_worker(&env).queues(["a", "b"]).start().await.unwrap();
    let drained = eventually(Duration::from_secs(20), || async {
        let mut idle = true;
        for queue in ["a", "b"] {
            let info = admin.queue(queue).await.unwrap();
            idle &= (info.ready, info.active, info.dead) == (0, 0, 0);
        }
        idle
    })
    .await;
    second.shutdown().await;
    assert!(drained, "every queue drained on the new primary");
    assert_eq!(setup.primary_port(), Some(setup.replica.port()));
}
