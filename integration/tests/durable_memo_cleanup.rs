//! A durable job's memo (`P:{Q}:steps:<id>`), pending signals
//! (`P:{Q}:signals:<id>`) and its entry in the sleeping / signal_wait
//! indexes go with its record when an operator cancels or deletes it: no
//! leftover key waits for the 7-day TTL and the queue's counts do not
//! include it.

use std::time::Duration;

use jobqueue_core::JobSet;
use jobqueue_integration::durable_job::DurableJob;
use jobqueue_integration::{test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use redis::AsyncCommands;
use uuid::Uuid;

/// Enqueues a job that runs one step and then parks waiting for a signal
/// (or sleeps), and waits until it is parked, with a pending signal of
/// another name stored for it.
async fn parked_job(env: &TestRedis, sleep: bool) -> Uuid {
    let mut job = DurableJob::new(env.url(), &format!("{}:trace", env.prefix()), 1);
    if sleep {
        job.sleep_ms = Some(600_000);
    } else {
        job.signal = Some("go".into());
        job.signal_timeout_ms = 600_000;
    }
    let id = env.client().enqueue(job).await.unwrap();
    let index = if sleep { "sleeping" } else { "signal_wait" };
    let index_key = format!("{}:{{default}}:{index}", env.prefix());
    assert!(
        eventually(Duration::from_secs(10), || async {
            index_members(env, &index_key)
                .await
                .contains(&id.to_string())
        })
        .await,
        "the job parked in {index}"
    );
    env.client()
        .signal("default", id, "other", &1)
        .await
        .unwrap();
    id
}

async fn conn(env: &TestRedis) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(env.url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

async fn index_members(env: &TestRedis, key: &str) -> Vec<String> {
    conn(env).await.zrange(key, 0, -1).await.unwrap()
}

/// The job's memo keys that still exist, and its index entries.
async fn leftovers(env: &TestRedis, id: Uuid) -> (u64, usize) {
    let base = format!("{}:{{default}}", env.prefix());
    let mut conn = conn(env).await;
    let keys: u64 = redis::cmd("EXISTS")
        .arg(format!("{base}:steps:{id}"))
        .arg(format!("{base}:signals:{id}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut indexed = 0;
    for index in ["sleeping", "signal_wait"] {
        let members = index_members(env, &format!("{base}:{index}")).await;
        indexed += members.iter().filter(|m| **m == id.to_string()).count();
    }
    (keys, indexed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_delete_drop_the_memo_and_the_index_entries() {
    let env = test_redis("durable-cleanup").await;
    let worker = test_worker(&env).start().await.unwrap();
    let waiting = parked_job(&env, false).await;
    let sleeping = parked_job(&env, true).await;
    let kept = parked_job(&env, false).await;
    assert_eq!(leftovers(&env, waiting).await, (2, 1), "memo and signals");
    assert_eq!(leftovers(&env, sleeping).await, (2, 1));

    env.client().cancel("default", waiting).await.unwrap();
    let deleted = env
        .client()
        .admin()
        .delete("default", JobSet::Retry, &[sleeping])
        .await
        .unwrap();
    assert_eq!(deleted, 1);

    assert_eq!(leftovers(&env, waiting).await, (0, 0), "cancelled");
    assert_eq!(leftovers(&env, sleeping).await, (0, 0), "deleted");
    assert_eq!(leftovers(&env, kept).await, (2, 1), "others untouched");
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(info.sleeping, 0, "{info:?}");
    assert_eq!(info.waiting_for_signal, 1, "{info:?}");
    worker.shutdown().await;
}
