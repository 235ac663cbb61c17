//! The memory a batch costs in Redis: N jobs added to one batch in chunks
//! against the same N jobs enqueued plainly, on a private Redis (nothing
//! else writes to it). A job of a batch costs its envelope's
//! `,"batch":"<id>"` member (47 bytes of record) while it waits, nothing
//! once it ended; the batch's bookkeeping is one hash of fixed size,
//! whatever N (no per-job key). Figures for docs/batches-and-workflows.md.
//!
//! Size: `JQ_CHAOS_BATCH_MEMORY_JOBS` (CI 100,000; the docs quote 1,000,000).

use jobqueue_integration::chaos::memory::used_memory;
use jobqueue_integration::chaos::{Figures, param};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::{RedisServer, test_redis_on};
use jobqueue_testing::TestRedis;

/// Jobs per enqueue call (and per batch chunk).
const CHUNK: u64 = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_batch_costs_a_bounded_number_of_bytes_per_job_and_a_fixed_size_hash() {
    let jobs = param("batch_memory_jobs", 100_000);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "batch-memory").await;
    let client = env.client();
    let ready = format!("{}:{{default}}:ready", env.prefix());

    let before_plain = used_memory(&env).await;
    for start in (0..jobs).step_by(CHUNK as usize) {
        let chunk = (start..(start + CHUNK).min(jobs)).map(|n| NoopJob { n });
        client.enqueue_bulk(chunk).await.unwrap();
    }
    let plain_bytes = used_memory(&env).await - before_plain;
    del(&env, &ready).await;

    let before_batch = used_memory(&env).await;
    let batch = client.batch().description("memory").create().await.unwrap();
    for start in (0..jobs).step_by(CHUNK as usize) {
        let chunk = (start..(start + CHUNK).min(jobs)).map(|n| NoopJob { n });
        batch.add(chunk).await.unwrap();
    }
    batch.seal().await.unwrap();
    let batch_bytes = used_memory(&env).await - before_batch;
    let info = client.admin().batch("default", batch.id()).await.unwrap();
    assert_eq!((info.total, info.pending), (jobs, jobs));
    let hash_key = format!("{}:{{default}}:batch:{}", env.prefix(), batch.id());
    let hash_bytes = memory_usage(&env, &hash_key).await;

    let plain_per_job = plain_bytes as f64 / jobs as f64;
    let batch_per_job = batch_bytes as f64 / jobs as f64;
    // The documented bound: the batch member (47 bytes of record) plus
    // allocator rounding, and a bookkeeping hash under 1 KiB.
    assert!(
        batch_per_job <= plain_per_job + 64.0,
        "a batch job costs {batch_per_job:.1} B, a plain one {plain_per_job:.1} B"
    );
    assert!(hash_bytes < 1024, "the batch hash is {hash_bytes} B");

    Figures::new("batch_memory")
        .set("jobs", jobs)
        .set("plain_waiting_bytes", plain_bytes)
        .set("batch_waiting_bytes", batch_bytes)
        .set("plain_bytes_per_job", plain_per_job)
        .set("batch_bytes_per_job", batch_per_job)
        .set("batch_hash_bytes", hash_bytes)
        .publish();
}

async fn del(env: &TestRedis, key: &str) {
    let mut conn = env.connection().await.unwrap();
    let _: i64 = redis::cmd("DEL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap();
}

async fn memory_usage(env: &TestRedis, key: &str) -> u64 {
    let mut conn = env.connection().await.unwrap();
    redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}
