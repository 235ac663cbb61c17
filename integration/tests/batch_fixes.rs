//! Batch fixes of the issue-14 review against real Redis and real workers:
//! retry-dead of a batch with more dead jobs than one Lua `unpack` takes
//! (paged, nothing lost), a cancelled batch firing nothing after a retry of
//! its dead jobs, on_success meaning every job succeeded, operator
//! deletes counted in the batch, a purge of the ready list counting
//! the batch jobs it drops (so their batch completes), and the batch's
//! `dead:<id>` fields bounded by the dead set.

use std::time::Duration;

use jobqueue_core::JobSet;
use jobqueue_core::admin::BatchState;
use jobqueue_integration::batch_fixtures::{batch_info, callback, callback_runs, dying};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::waiting::wait_for;
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_dead_of_nine_thousand_dead_jobs_pages_and_loses_none() {
    const N: u64 = 9000;
    let env = test_redis("batch_retry_paged").await;
    let client = env.client();
    let batch = client
        .batch()
        .on_success(callback(&env, "success"))
        .create()
        .await
        .unwrap();
    batch.add_with((0..N).map(|_| dying(&env))).await.unwrap();
    batch.seal().await.unwrap();
    let worker = test_worker(&env).concurrency(64).start().await.unwrap();
    wait_for("all dead", 120, async || {
        batch_info(&env, "default", batch.id()).await.dead == N
    })
    .await;
    worker.shutdown().await;

    let retried = client
        .admin()
        .batch_retry_dead("default", batch.id())
        .await
        .unwrap();
    assert_eq!(retried, N);
    let after = batch_info(&env, "default", batch.id()).await;
    assert_eq!((after.dead, after.pending), (0, N));
    assert_eq!(client.admin().queue("default").await.unwrap().dead, 0);
    // A second retry finds nothing left to place.
    let again = client.admin().batch_retry_dead("default", batch.id()).await;
    assert_eq!(again.unwrap(), 0);

    let worker = test_worker(&env).concurrency(64).start().await.unwrap();
    wait_for("on_success", 120, async || {
        callback_runs(&env, "success").await == 1
    })
    .await;
    let done = batch_info(&env, "default", batch.id()).await;
    assert_eq!((done.succeeded, done.dead, done.pending), (N, 0, 0));
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_batch_fires_nothing_after_its_dead_jobs_are_retried() {
    let env = test_redis("batch_cancel_retry").await;
    let client = env.client();
    let batch = client
        .batch()
        .on_success(callback(&env, "success"))
        .on_complete(callback(&env, "complete"))
        .create()
        .await
        .unwrap();
    let ids = batch
        .add_with([dying(&env), dying(&env), dying(&env)])
        .await
        .unwrap();
    batch.seal().await.unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    wait_for("dead", 20, async || {
        batch_info(&env, "default", batch.id()).await.dead == 3
    })
    .await;
    wait_for("on_complete", 20, async || {
        callback_runs(&env, "complete").await == 1
    })
    .await;
    client
        .admin()
        .batch_cancel("default", batch.id())
        .await
        .unwrap();
    // One retried from the dead set on its own, the others by the batch.
    let one = client
        .admin()
        .retry("default", JobSet::Dead, &ids[..1])
        .await;
    assert_eq!(one.unwrap(), 1);
    let rest = client.admin().batch_retry_dead("default", batch.id()).await;
    assert_eq!(rest.unwrap(), 2);
    wait_for("retried jobs succeed", 20, async || {
        batch_info(&env, "default", batch.id()).await.succeeded == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = batch_info(&env, "default", batch.id()).await;
    assert_eq!(
        (after.state, after.pending, after.dead),
        (BatchState::Cancelled, 0, 0)
    );
    assert_eq!(callback_runs(&env, "success").await, 0);
    assert_eq!(callback_runs(&env, "complete").await, 1);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cancelled_on_its_own_means_no_on_success() {
    let env = test_redis("batch_cancel_no_success").await;
    let client = env.client();
    let batch = client
        .batch()
        .on_success(callback(&env, "success"))
        .on_complete(callback(&env, "complete"))
        .create()
        .await
        .unwrap();
    let ids = batch.add((0..3).map(|_| env.test_job())).await.unwrap();
    batch.seal().await.unwrap();
    client.cancel("default", ids[0]).await.unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    wait_for("on_complete", 20, async || {
        callback_runs(&env, "complete").await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let done = batch_info(&env, "default", batch.id()).await;
    assert_eq!((done.succeeded, done.cancelled, done.pending), (2, 1, 0));
    assert_eq!(callback_runs(&env, "success").await, 0);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueue_with_a_job_too_large_creates_no_held_batch() {
    let env = test_redis("batch_enqueue_too_large").await;
    let client = env.client();
    let too_large = TestJob {
        key: "x".repeat(jobqueue_core::DEFAULT_MAX_PAYLOAD_BYTES + 1),
        ..env.test_job()
    };
    let err = client
        .batch()
        .on_complete(callback(&env, "complete"))
        .enqueue([env.test_job(), too_large])
        .await
        .unwrap_err();
    assert!(
        matches!(err, jobqueue_core::Error::PayloadTooLarge { .. }),
        "{err}"
    );
    let batches = client
        .admin()
        .batches("default", None, 0, 100)
        .await
        .unwrap();
    assert!(batches.is_empty(), "a batch was left: {batches:?}");
    assert_eq!(client.admin().queue("default").await.unwrap().ready, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_never_sealed_is_dropped_after_its_open_timeout_a_sealed_one_is_not() {
    let env = test_redis("batch_open_timeout").await;
    let client = env.client();
    let timeout = Duration::from_millis(400);
    let abandoned = client.batch().open_timeout(timeout).create().await.unwrap();
    let sealed = client.batch().open_timeout(timeout).create().await.unwrap();
    // Adds renew the timeout while the producer holds the batch.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        abandoned.add([env.test_job()]).await.unwrap();
        sealed.add([env.test_job()]).await.unwrap();
    }
    assert!(batch_info(&env, "default", abandoned.id()).await.held);
    sealed.seal().await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let gone = client.admin().batch("default", abandoned.id()).await;
    assert!(
        matches!(gone, Err(jobqueue_core::Error::BatchNotFound { .. })),
        "{gone:?}"
    );
    let kept = batch_info(&env, "default", sealed.id()).await;
    assert_eq!(
        (kept.state, kept.pending, kept.held),
        (BatchState::Open, 3, false)
    );
    // The abandoned batch's jobs still run (uncounted), the sealed one completes.
    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(6, Duration::from_secs(20)).await);
    wait_for("sealed batch finished", 20, async || {
        batch_info(&env, "default", sealed.id()).await.state == BatchState::Finished
    })
    .await;
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_job_deleted_from_the_retry_set_is_counted_and_the_batch_completes() {
    let env = test_redis("batch_delete_retry").await;
    let client = env.client();
    let batch = client
        .batch()
        .on_complete(callback(&env, "complete"))
        .create()
        .await
        .unwrap();
    let failing = TestJob {
        fail_times: 100,
        ..env.test_job()
    };
    let ids = batch.add([failing, env.test_job()]).await.unwrap();
    batch.seal().await.unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    wait_for("one retrying, one succeeded", 20, async || {
        let queue = env.client().admin().queue("default").await.unwrap();
        queue.retry == 1 && batch_info(&env, "default", batch.id()).await.succeeded == 1
    })
    .await;
    let deleted = client
        .admin()
        .delete("default", JobSet::Retry, &ids[..1])
        .await;
    assert_eq!(deleted.unwrap(), 1);
    // Deleted twice: counted once.
    let again = client
        .admin()
        .delete("default", JobSet::Retry, &ids[..1])
        .await;
    assert_eq!(again.unwrap(), 0);
    let done = batch_info(&env, "default", batch.id()).await;
    assert_eq!(
        (done.state, done.pending, done.cancelled, done.succeeded),
        (BatchState::Finished, 0, 1, 1)
    );
    wait_for("on_complete", 20, async || {
        callback_runs(&env, "complete").await == 1
    })
    .await;
    worker.shutdown().await;
}

/// Before purge.lua counted them, the purged jobs of a batch stayed
/// `pending` for ever: the batch never completed and on_complete never ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_counts_the_batch_jobs_it_drops_as_cancelled() {
    const N: u64 = 2500;
    let env = test_redis("batch_purge_counts").await;
    let client = env.client();
    let batch = client
        .batch()
        .on_success(callback(&env, "success"))
        .on_complete(callback(&env, "complete"))
        .enqueue((0..N).map(|_| env.test_job()))
        .await
        .unwrap();
    client.enqueue(env.test_job()).await.unwrap();
    // A purge interrupted after taking the ready list aside: two records
    // left in P:{Q}:purging are dropped (and counted) by the next purge.
    let mut redis = redis::Client::open(env.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ready = format!("{}:{{default}}:ready", env.prefix());
    let purging = format!("{}:{{default}}:purging", env.prefix());
    for _ in 0..2 {
        let record: Vec<u8> = redis::cmd("LPOP")
            .arg(&ready)
            .query_async(&mut redis)
            .await
            .unwrap();
        let _: () = redis::cmd("RPUSH")
            .arg(&purging)
            .arg(record)
            .query_async(&mut redis)
            .await
            .unwrap();
    }

    let dropped = client.admin().purge("default").await.unwrap();
    assert_eq!(dropped, N + 1);
    let purged = batch_info(&env, "default", batch.id()).await;
    assert_eq!(
        (
            purged.state,
            purged.pending,
            purged.cancelled,
            purged.succeeded
        ),
        (BatchState::Finished, 0, N, 0)
    );
    let exists: u64 = redis::cmd("EXISTS")
        .arg(&purging)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(exists, 0, "the purge left records aside");
    // The on_complete callback the purge's last page enqueued was not purged.
    assert_eq!(client.admin().queue("default").await.unwrap().ready, 1);

    let worker = test_worker(&env).start().await.unwrap();
    wait_for("on_complete", 20, async || {
        callback_runs(&env, "complete").await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(callback_runs(&env, "success").await, 0);
    assert_eq!(callback_runs(&env, "complete").await, 1);
    worker.shutdown().await;
}

/// Before the dead-set trim told their batch, a batch kept one `dead:<id>`
/// field per job that ever died, however small the dead set: unbounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_forgets_the_dead_jobs_trimmed_from_the_dead_set() {
    const N: u64 = 30;
    const KEPT: u64 = 5;
    let env = test_redis("batch_dead_bounded").await;
    let client = env.client();
    let batch = client
        .batch()
        .on_complete(callback(&env, "complete"))
        .create()
        .await
        .unwrap();
    batch.add_with((0..N).map(|_| dying(&env))).await.unwrap();
    batch.seal().await.unwrap();
    let worker = test_worker(&env)
        .dead_limits(jobqueue_core::store::DeadLimits {
            max_jobs: KEPT,
            ..jobqueue_core::store::DeadLimits::default()
        })
        .start()
        .await
        .unwrap();
    wait_for("all dead", 30, async || {
        batch_info(&env, "default", batch.id()).await.dead == N
    })
    .await;
    worker.shutdown().await;
    let mut redis = redis::Client::open(env.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let fields: Vec<String> = redis::cmd("HKEYS")
        .arg(format!("{}:{{default}}:batch:{}", env.prefix(), batch.id()))
        .query_async(&mut redis)
        .await
        .unwrap();
    let remembered = fields.iter().filter(|f| f.starts_with("dead:")).count() as u64;
    let in_dead_set = client.admin().queue("default").await.unwrap().dead;
    assert!(in_dead_set <= KEPT + 1, "dead set {in_dead_set}");
    assert_eq!(
        remembered, in_dead_set,
        "dead:<id> fields beyond the dead set"
    );
    // Retry-dead still retries every job the dead set kept.
    let retried = client.admin().batch_retry_dead("default", batch.id()).await;
    assert_eq!(retried.unwrap(), in_dead_set);
    let after = batch_info(&env, "default", batch.id()).await;
    assert_eq!((after.dead, after.pending), (N - in_dead_set, in_dead_set));
}
