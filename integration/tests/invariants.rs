//! DESIGN.md invariants checked on a private Redis, where every key
//! present is one jobqueue wrote: everything under the prefix, every
//! per-queue key tagged with its queue, every job in exactly one place.

use std::time::Duration;

use jobqueue_integration::locate::locate_jobs;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis, test_redis_on, test_worker};
use jobqueue_testing::{TestRedis, eventually};

/// Runs a bit of everything: ready, delayed, priority, retrying, dead,
/// paused, a worker with leases and stats.
async fn exercise(env: &TestRedis) {
    for n in 0..5u64 {
        let mut job = env.test_job();
        job.tag = n;
        env.client().job(job).queue("q1").enqueue().await.unwrap();
    }
    env.client()
        .job(env.test_job())
        .queue("q2")
        .priority(3)
        .enqueue()
        .await
        .unwrap();
    env.client()
        .job(env.test_job())
        .queue("q2")
        .delay(Duration::from_secs(600))
        .enqueue()
        .await
        .unwrap();
    let mut failing = env.test_job();
    failing.permanent = true;
    env.client()
        .job(failing)
        .queue("q1")
        .enqueue()
        .await
        .unwrap();
    let mut retrying = env.test_job();
    retrying.fail_times = 10;
    env.client()
        .job(retrying)
        .queue("q2")
        .enqueue()
        .await
        .unwrap();
    let worker = test_worker(env).queues(["q1", "q2"]).start().await.unwrap();
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("q1").await.unwrap().dead == 1 && env.done().await.len() == 6
        })
        .await
    );
    admin.pause("q1").await.unwrap();
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_is_under_the_prefix_and_queue_keys_carry_the_queue_tag() {
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "prefix").await;
    exercise(&env).await;
    let mut conn = env.connection().await.unwrap();
    let all: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(all.len() > 10, "{all:?}");
    for key in &all {
        assert!(
            key.starts_with(&format!("{}:", env.prefix())),
            "key outside the prefix: {key}"
        );
        if let Some(open) = key.find('{') {
            let close = key[open..].find('}').map(|c| open + c).expect("closed tag");
            let tag = &key[open + 1..close];
            assert!(tag == "q1" || tag == "q2", "{key}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_job_is_always_in_exactly_one_place_until_it_succeeds() {
    let env = test_redis("one-place").await;
    let client = env.client();
    let mut ids = Vec::new();
    for n in 0..200u64 {
        let mut job = env.test_job();
        job.tag = n;
        job.sleep_ms = n % 20;
        job.fail_times = u32::from(n % 3 == 0);
        let builder = client.job(job);
        let builder = if n % 5 == 0 {
            builder.delay(Duration::from_millis(300))
        } else {
            builder
        };
        let builder = if n % 7 == 0 {
            builder.priority(2)
        } else {
            builder
        };
        ids.push(builder.enqueue().await.unwrap().to_string());
    }
    let worker = test_worker(&env).concurrency(8).start().await.unwrap();
    let mut rounds = 0;
    loop {
        let places = locate_jobs(&env, "default").await;
        let done = env.done().await;
        for id in &ids {
            let found = places.get(id).map_or(0, Vec::len);
            if done.contains_key(id) {
                assert!(
                    found <= 1,
                    "{id} finished but found in {:?}",
                    places.get(id)
                );
            } else {
                // Between a fetch and its first trace, or between its last
                // trace and its ack, a job is active: never nowhere, never twice.
                assert_eq!(found, 1, "{id} is in {:?} (done: no)", places.get(id));
            }
        }
        rounds += 1;
        if done.len() == ids.len() {
            break;
        }
        assert!(rounds < 2000, "jobs did not finish");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    worker.shutdown().await;
    let places = locate_jobs(&env, "default").await;
    assert!(places.is_empty(), "left behind: {places:?}");
}
