//! An acknowledgement Redis accepted can still be lost: a failover
//! promotes a replica that had not received it, and the finished job is
//! back in its worker's active hash, covered by that worker's live lease.
//! The worker's routine reconciliation (jobqueue-worker/src/loops/fetch_round.rs)
//! hands such a job back within one lease period, so it runs again
//! (at least once) instead of sitting active until the worker stops.
//!
//! The test plants exactly that state: a job in a running worker's active
//! hash that the worker never received.

use std::time::{Duration, Instant};

use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_left_active_by_a_lost_acknowledgement_runs_again_within_a_lease() {
    let env = test_redis("lost-ack").await;
    let worker = test_worker(&env)
        .lease(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let admin = env.client().admin();
    let q = env.client().store().queue_keys("default").unwrap();
    let mut redis = env.connection().await.unwrap();

    // A job the worker has not seen: take its record off the ready list
    // while the queue is paused and file it as leased by the worker.
    admin.pause("default").await.unwrap();
    let id = env.client().enqueue(env.test_job()).await.unwrap();
    let record: Vec<u8> = redis::cmd("LPOP")
        .arg(q.ready())
        .query_async(&mut redis)
        .await
        .unwrap();
    let active = q.active(worker.worker_id());
    let _: () = redis::cmd("HSET")
        .arg(&active)
        .arg(id.to_string())
        .arg(&record)
        .query_async(&mut redis)
        .await
        .unwrap();
    let planted = Instant::now();
    admin.resume("default").await.unwrap();

    assert!(
        env.wait_done(1, Duration::from_secs(10)).await,
        "the orphaned job ran again"
    );
    assert!(
        planted.elapsed() < Duration::from_secs(5),
        "handed back within about one lease (1 s), took {:?}",
        planted.elapsed()
    );
    assert_eq!(env.done().await.get(&id.to_string()), Some(&1));
    let left_active = eventually(Duration::from_secs(5), || {
        let mut redis = redis.clone();
        let active = active.clone();
        async move {
            let n: u64 = redis::cmd("HLEN")
                .arg(&active)
                .query_async(&mut redis)
                .await
                .unwrap();
            n == 0
        }
    })
    .await;
    assert!(left_active, "nothing stays active");
    worker.shutdown().await;
}
