//! Batches against real Redis and real workers: counts kept by the scripts
//! that end jobs, each callback enqueued exactly once (also when the last
//! two jobs end at the same instant on two workers), open batches fed by
//! their own running jobs, retry of a batch's dead jobs then on_success,
//! retention, bad input, and plain jobs unchanged.

use std::time::Duration;

use jobqueue_core::admin::{BatchInfo, BatchState};
use jobqueue_core::{Client, ClientConfig, Error, Job, JobContext, JobError, JobOptions};
use jobqueue_integration::batch_fixtures::{batch_info, callback, callback_runs, dying};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Waits until the batch finished and its callbacks ran.
async fn finished(env: &TestRedis, queue: &str, id: Uuid) -> BatchInfo {
    assert!(
        eventually(Duration::from_secs(20), || async {
            batch_info(env, queue, id).await.state == BatchState::Finished
        })
        .await,
        "batch never finished: {:?}",
        batch_info(env, queue, id).await
    );
    batch_info(env, queue, id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_and_each_callback_once_then_retry_dead_brings_on_success() {
    let env = test_redis("batch_counts").await;
    let client = env.client();
    let batch = client
        .batch()
        .description("<b>import</b> & more")
        .on_success(callback(&env, "success"))
        .on_complete(callback(&env, "complete"))
        .on_death(callback(&env, "death"))
        .create()
        .await
        .unwrap();
    assert!(batch_info(&env, "default", batch.id()).await.held);
    // 16 plain jobs in two chunks, one failing once, two dying on their
    // only attempt (and succeeding when retried).
    batch.add((0..8).map(|_| env.test_job())).await.unwrap();
    batch.add((0..8).map(|_| env.test_job())).await.unwrap();
    let flaky = TestJob {
        fail_times: 1,
        ..env.test_job()
    };
    batch.add([flaky]).await.unwrap();
    batch.add_with([dying(&env), dying(&env)]).await.unwrap();
    let worker = test_worker(&env).concurrency(4).start().await.unwrap();
    // Held: the jobs all end, but the batch does not complete.
    assert!(env.wait_done(17, Duration::from_secs(20)).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held = batch_info(&env, "default", batch.id()).await;
    assert_eq!(
        (held.state, held.pending, held.dead),
        (BatchState::Open, 0, 2)
    );
    assert_eq!(callback_runs(&env, "complete").await, 0);
    batch.seal().await.unwrap();
    let done = finished(&env, "default", batch.id()).await;
    assert_eq!(done.total, 19);
    assert_eq!(done.succeeded, 17);
    assert_eq!(done.dead, 2);
    assert_eq!(done.failed_attempts, 1);
    assert_eq!(done.description, "<b>import</b> & more");
    assert!(
        eventually(Duration::from_secs(10), || async {
            callback_runs(&env, "complete").await == 1 && callback_runs(&env, "death").await == 1
        })
        .await
    );
    assert_eq!(callback_runs(&env, "success").await, 0);

    let retried = client
        .admin()
        .batch_retry_dead("default", batch.id())
        .await
        .unwrap();
    assert_eq!(retried, 2);
    assert!(
        eventually(Duration::from_secs(20), || async {
            callback_runs(&env, "success").await == 1
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = batch_info(&env, "default", batch.id()).await;
    assert_eq!((after.succeeded, after.dead, after.pending), (19, 0, 0));
    for kind in ["success", "complete", "death"] {
        assert_eq!(callback_runs(&env, kind).await, 1, "{kind} ran once");
    }
    assert!(after.callbacks.iter().all(|cb| cb.fired_at_ms.is_some()));
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_two_jobs_ending_together_on_two_workers_fire_once() {
    let env = test_redis("batch_race").await;
    let client = env.client();
    let first = test_worker(&env).concurrency(1).start().await.unwrap();
    let second = test_worker(&env).concurrency(1).start().await.unwrap();
    let rounds = 25;
    let mut ids = Vec::new();
    for round in 0..rounds {
        let job = TestJob {
            sleep_ms: 20,
            tag: round,
            ..env.test_job()
        };
        let batch = client
            .batch()
            .on_complete(callback(&env, "complete"))
            .on_success(callback(&env, "success"))
            .enqueue([job.clone(), job])
            .await
            .unwrap();
        ids.push(batch.id());
    }
    for id in &ids {
        finished(&env, "default", *id).await;
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            callback_runs(&env, "complete").await >= rounds
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(callback_runs(&env, "complete").await, rounds);
    assert_eq!(callback_runs(&env, "success").await, rounds);
    first.shutdown().await;
    second.shutdown().await;
}

/// A job that adds `children` jobs to its own batch while it runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Spawner {
    url: String,
    prefix: String,
    children: u32,
    child: TestJob,
}

impl Job for Spawner {
    const NAME: &'static str = "batch_spawner";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let client = Client::with_config(ClientConfig::new(&self.url).prefix(&self.prefix))
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
        let id = ctx
            .batch()
            .ok_or_else(|| JobError::permanent("not in a batch"))?;
        // Give the producer time to seal: the batch must stay open anyway.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let batch = client
            .batch_ref(ctx.queue(), id)
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
        batch
            .add((0..self.children).map(|_| self.child.clone()))
            .await
            .map_err(|e| JobError::permanent(e.to_string()))?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_adds_to_its_open_batch_which_completes_after_them() {
    let env = test_redis("batch_open").await;
    let spawner = Spawner {
        url: env.url().to_owned(),
        prefix: env.prefix().to_owned(),
        children: 5,
        child: TestJob {
            sleep_ms: 100,
            ..env.test_job()
        },
    };
    let batch = env
        .client()
        .batch()
        .queue("default")
        .on_success(callback(&env, "success"))
        .enqueue([spawner])
        .await
        .unwrap();
    let worker = test_worker(&env)
        .register::<Spawner>()
        .concurrency(4)
        .start()
        .await
        .unwrap();
    let done = finished(&env, "default", batch.id()).await;
    assert_eq!((done.total, done.succeeded, done.dead), (6, 6, 0));
    // Every child had finished before the batch did.
    assert_eq!(env.done_count().await, 5);
    assert!(
        eventually(Duration::from_secs(10), || async {
            callback_runs(&env, "success").await == 1
        })
        .await
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_clear_error_and_adds_nothing() {
    let env = test_redis("batch_bad_input").await;
    let client = env.client();
    let too_long = client.batch().description("x".repeat(5000)).create().await;
    assert!(matches!(too_long, Err(Error::InvalidArgument { .. })));
    let batch = client.batch().create().await.unwrap();
    let with_priority = JobOptions {
        priority: 3,
        ..JobOptions::default()
    };
    let refused = batch.add_with([(env.test_job(), with_priority)]).await;
    assert!(
        matches!(&refused, Err(Error::InvalidArgument { message, .. }) if message.contains("priority")),
        "{refused:?}"
    );
    let elsewhere = JobOptions {
        queue: Some("other".into()),
        ..JobOptions::default()
    };
    assert!(batch.add_with([(env.test_job(), elsewhere)]).await.is_err());
    assert_eq!(batch_info(&env, "default", batch.id()).await.total, 0);
    // An empty batch completes when sealed; it then takes no more jobs.
    batch.seal().await.unwrap();
    batch.seal().await.unwrap();
    assert_eq!(
        batch_info(&env, "default", batch.id()).await.state,
        BatchState::Finished
    );
    let late = batch.add([env.test_job()]).await;
    assert!(matches!(late, Err(Error::BatchClosed { .. })), "{late:?}");
    let unknown = client.batch_ref("default", Uuid::now_v7()).await.unwrap();
    let missing = unknown.add([env.test_job()]).await;
    assert!(
        matches!(missing, Err(Error::BatchNotFound { .. })),
        "{missing:?}"
    );
    assert!(matches!(
        client.admin().batch("default", Uuid::now_v7()).await,
        Err(Error::BatchNotFound { .. })
    ));
    // Nothing reached the ready list.
    let ready: i64 = redis::cmd("LLEN")
        .arg(format!("{}:{{default}}:ready", env.prefix()))
        .query_async(&mut env.connection().await.unwrap())
        .await
        .unwrap();
    assert_eq!(ready, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_batch_expires_after_its_retention_and_leaves_the_list() {
    let env = test_redis("batch_retention").await;
    let client = env.client();
    let batch = client
        .batch()
        .description("short-lived")
        .retention(Duration::from_millis(800))
        .enqueue([env.test_job()])
        .await
        .unwrap();
    let listed = client
        .admin()
        .batches("default", None, 0, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let worker = test_worker(&env).start().await.unwrap();
    let done = finished(&env, "default", batch.id()).await;
    assert!(done.expires_in_ms.is_some_and(|ms| ms <= 800));
    assert!(
        eventually(Duration::from_secs(5), || async {
            client.admin().batch("default", batch.id()).await.is_err()
        })
        .await
    );
    let listed = client
        .admin()
        .batches("default", None, 0, 10)
        .await
        .unwrap();
    assert!(listed.is_empty());
    worker.shutdown().await;
}

#[tokio::test]
async fn a_plain_job_record_carries_no_batch_member() {
    let env = test_redis("batch_plain").await;
    let prepared = env.client().job(env.test_job()).prepare().unwrap();
    let record = String::from_utf8(prepared.record().to_vec()).unwrap();
    assert!(!record.contains("\"batch\""), "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_batch_moves_its_waiting_jobs_to_cancelled_and_fires_nothing() {
    let env = test_redis("batch_cancel").await;
    let client = env.client();
    // A plain job before and after, which the cancel must leave alone.
    client.enqueue(env.test_job()).await.unwrap();
    let batch = client
        .batch()
        .on_complete(callback(&env, "complete"))
        .on_success(callback(&env, "success"))
        .create()
        .await
        .unwrap();
    batch.add((0..2500).map(|_| env.test_job())).await.unwrap();
    client.enqueue(env.test_job()).await.unwrap();
    let cancelled = client
        .admin()
        .batch_cancel("default", batch.id())
        .await
        .unwrap();
    assert_eq!(cancelled, 2500);
    let info = batch_info(&env, "default", batch.id()).await;
    assert_eq!(info.state, BatchState::Cancelled);
    assert_eq!((info.total, info.pending, info.cancelled), (2500, 0, 2500));
    assert!(info.expires_in_ms.is_some(), "retention started: {info:?}");
    let queue = client.admin().queue("default").await.unwrap();
    assert_eq!(queue.ready, 2, "the two plain jobs stay: {queue:?}");
    let late = batch.add([env.test_job()]).await;
    assert!(matches!(late, Err(Error::BatchClosed { .. })), "{late:?}");
    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(2, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(env.done_count().await, 2);
    assert_eq!(callback_runs(&env, "complete").await, 0);
    assert_eq!(callback_runs(&env, "success").await, 0);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_batch_job_retried_one_by_one_is_counted_pending_again() {
    let env = test_redis("batch_requeue").await;
    let client = env.client();
    let batch = client
        .batch()
        .on_success(callback(&env, "success"))
        .create()
        .await
        .unwrap();
    let ids = batch
        .add_with([dying(&env), (env.test_job(), JobOptions::default())])
        .await
        .unwrap();
    batch.seal().await.unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    let done = finished(&env, "default", batch.id()).await;
    assert_eq!((done.succeeded, done.dead), (1, 1));
    // The operator retries the dead job from the dead set, as any dead job.
    let retried = client
        .admin()
        .retry("default", jobqueue_core::JobSet::Dead, &ids[..1])
        .await
        .unwrap();
    assert_eq!(retried, 1);
    // Retried twice: counted once (the batch no longer remembers it dead).
    client
        .admin()
        .retry("default", jobqueue_core::JobSet::Dead, &ids[..1])
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            callback_runs(&env, "success").await == 1
        })
        .await
    );
    let after = batch_info(&env, "default", batch.id()).await;
    assert_eq!(
        (after.total, after.succeeded, after.dead, after.pending),
        (2, 2, 0, 0)
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_of_a_batch_cancelled_on_its_own_is_counted_and_the_batch_completes() {
    let env = test_redis("batch_cancel_one").await;
    let client = env.client();
    let batch = client
        .batch()
        .on_complete(callback(&env, "complete"))
        .create()
        .await
        .unwrap();
    let ids = batch.add((0..2).map(|_| env.test_job())).await.unwrap();
    batch.seal().await.unwrap();
    for id in &ids {
        let outcome = client.cancel("default", *id).await.unwrap();
        assert!(matches!(
            outcome,
            jobqueue_core::CancelOutcome::Cancelled { .. }
        ));
    }
    let done = batch_info(&env, "default", batch.id()).await;
    assert_eq!(
        (done.state, done.pending, done.cancelled),
        (BatchState::Finished, 0, 2)
    );
    let worker = test_worker(&env).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            callback_runs(&env, "complete").await == 1
        })
        .await
    );
    worker.shutdown().await;
}
