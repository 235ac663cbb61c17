//! A durable job's memo (`P:{Q}:steps:<id>`), pending signals
//! (`P:{Q}:signals:<id>`) and its entry in the sleeping / signal_wait
//! indexes go with its record when an operator cancels, deletes or purges
//! it: no leftover key waits for the 7-day TTL and the queue's counts do
//! not include it.

use std::time::Duration;

use jobqueue_core::{JobBuilder, JobSet};
use jobqueue_integration::durable_job::DurableJob;
use jobqueue_integration::{test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use redis::AsyncCommands;
use uuid::Uuid;

/// Enqueues a job that runs one step and then parks waiting for a signal
/// (or sleeps), and waits until it is parked, with a pending signal of
/// another name stored for it.
async fn parked_job(env: &TestRedis, sleep: bool) -> Uuid {
    parked_job_with(env, sleep, |job| job).await
}

/// [`parked_job`], enqueued with the options `with` sets.
async fn parked_job_with(
    env: &TestRedis,
    sleep: bool,
    with: impl for<'c> FnOnce(JobBuilder<'c, DurableJob>) -> JobBuilder<'c, DurableJob>,
) -> Uuid {
    let mut job = DurableJob::new(env.url(), &format!("{}:trace", env.prefix()), 1);
    if sleep {
        job.sleep_ms = Some(600_000);
    } else {
        job.signal = Some("go".into());
        job.signal_timeout_ms = 600_000;
    }
    let client = env.client();
    let id = with(client.job(job)).enqueue().await.unwrap();
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

/// Before the fix, a purge dropped the ready list whole and left the memo
/// of every durable job in it (woken from a wait, not fetched yet) to its
/// 7-day TTL; now each purged job's memo goes too — plain, prioritised and
/// keyed jobs alike — and a job parked elsewhere keeps its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_drops_the_memos_of_the_purged_jobs() {
    let env = test_redis("durable-purge").await;
    let worker = test_worker(&env).start().await.unwrap();
    let plain = parked_job(&env, false).await;
    let prioritised = parked_job_with(&env, false, |job| job.priority(3)).await;
    let keyed = parked_job_with(&env, false, |job| job.flow_key("account:7")).await;
    let kept = parked_job(&env, true).await;
    worker.shutdown().await;

    // Woken with no worker running: due now, then ready (the ready list,
    // the priority set, the key's list) with their memos.
    for id in [plain, prioritised, keyed] {
        env.client().signal("default", id, "go", &1).await.unwrap();
    }
    assert_eq!(env.promote_due().await.unwrap(), 3);
    for id in [plain, prioritised, keyed] {
        assert_eq!(leftovers(&env, id).await, (2, 0), "memo and signals");
    }

    let purged = env.client().admin().purge("default").await.unwrap();
    assert_eq!(purged, 3);
    for id in [plain, prioritised, keyed] {
        assert_eq!(leftovers(&env, id).await, (0, 0), "purged job {id}");
    }
    assert_eq!(
        leftovers(&env, kept).await,
        (2, 1),
        "a sleeping job is untouched"
    );
    // The purge's own keys are gone once drained.
    let mut conn = conn(&env).await;
    let purging: Vec<String> = conn
        .keys(format!("{}:{{default}}:purging*", env.prefix()))
        .await
        .unwrap();
    assert!(purging.is_empty(), "{purging:?}");
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(info.ready, 0, "{info:?}");
}

/// A purge of many jobs pages through them (1000 per call) and drops every
/// memo, and leaves jobs enqueued after it alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_pages_through_many_jobs() {
    let env = test_redis("durable-purge-many").await;
    let base = format!("{}:{{default}}", env.prefix());
    let mut conn = conn(&env).await;
    let mut ids = Vec::new();
    for n in 0..2500 {
        let job = jobqueue_integration::jobs::NoopJob { n };
        let id = env.client().enqueue(job).await.unwrap();
        ids.push(id);
    }
    // Memos as a woken durable job has them (written as step_store.lua
    // writes one), for every fifth job.
    for id in ids.iter().step_by(5) {
        let _: () = conn
            .hset(format!("{base}:steps:{id}"), "step:a", "1 null")
            .await
            .unwrap();
    }
    let purged = env.client().admin().purge("default").await.unwrap();
    assert_eq!(purged, 2500);
    let memos: Vec<String> = conn.keys(format!("{base}:steps:*")).await.unwrap();
    assert!(memos.is_empty(), "{} memos left", memos.len());
    let after = env
        .client()
        .enqueue(jobqueue_integration::jobs::NoopJob { n: 1 })
        .await
        .unwrap();
    let ready: Vec<String> = conn.lrange(format!("{base}:ready"), 0, -1).await.unwrap();
    assert_eq!(ready.len(), 1);
    assert!(ready[0].contains(&after.to_string()));
}
