//! Nested batches against real Redis and real workers: a child batch on
//! another queue counts as one job of its parent, told through the child
//! queue's release outbox; outcomes (succeeded, dead, cancelled), a
//! retry-dead of the child counted again, three levels deep, a child whose
//! producer never sealed it (its open timeout ends the parent's unit), and
//! a duplicated outbox entry counting nothing.

use std::time::Duration;

use jobqueue_core::admin::BatchState;
use jobqueue_core::{Client, ClientConfig, Job, JobContext, JobError};
use jobqueue_integration::batch_fixtures::{batch_info, callback, callback_runs, dying};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::waiting::wait_for;
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::TestRedis;
use jobqueue_worker::RunningWorker;
use serde::{Deserialize, Serialize};

/// The second queue, where the children live.
const OTHER: &str = "other";

/// A worker serving both queues, sweeping the outbox every 200 ms.
async fn worker(env: &TestRedis) -> RunningWorker {
    test_worker(env)
        .queues(["default", OTHER])
        .reap_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_on_another_queue_counts_as_one_job_of_its_parent() {
    let env = test_redis("nested_other_queue").await;
    let client = env.client();
    let parent = client
        .batch()
        .on_success(callback(&env, "parent_success"))
        .on_complete(callback(&env, "parent_complete"))
        .create()
        .await
        .unwrap();
    parent.add((0..2).map(|_| env.test_job())).await.unwrap();
    let child = parent
        .child()
        .queue(OTHER)
        .on_success(callback(&env, "child_success"))
        .enqueue((0..3).map(|_| env.test_job()))
        .await
        .unwrap();
    assert_eq!(child.queue(), OTHER);
    parent.seal().await.unwrap();
    let held = batch_info(&env, "default", parent.id()).await;
    assert_eq!((held.total, held.pending), (3, 3));

    let worker = worker(&env).await;
    wait_for("parent's on_complete", 20, async || {
        callback_runs(&env, "parent_complete").await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let done = batch_info(&env, "default", parent.id()).await;
    assert_eq!(
        (done.state, done.total, done.succeeded, done.pending),
        (BatchState::Finished, 3, 3, 0)
    );
    let child_done = batch_info(&env, OTHER, child.id()).await;
    assert_eq!((child_done.succeeded, child_done.pending), (3, 0));
    assert_eq!(callback_runs(&env, "parent_success").await, 1);
    assert_eq!(callback_runs(&env, "child_success").await, 1);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_child_is_dead_in_its_parent_until_retried_then_counted_once() {
    let env = test_redis("nested_retry_dead").await;
    let client = env.client();
    let parent = client
        .batch()
        .on_success(callback(&env, "parent_success"))
        .on_complete(callback(&env, "parent_complete"))
        .on_death(callback(&env, "parent_death"))
        .create()
        .await
        .unwrap();
    let child = parent.child().queue(OTHER).create().await.unwrap();
    child.add_with([dying(&env), dying(&env)]).await.unwrap();
    child.seal().await.unwrap();
    parent.seal().await.unwrap();

    let worker = worker(&env).await;
    wait_for("parent's on_complete", 20, async || {
        callback_runs(&env, "parent_complete").await == 1
    })
    .await;
    let dead = batch_info(&env, "default", parent.id()).await;
    assert_eq!((dead.dead, dead.pending, dead.succeeded), (1, 0, 0));
    assert_eq!(callback_runs(&env, "parent_death").await, 1);
    assert_eq!(callback_runs(&env, "parent_success").await, 0);

    let retried = client.admin().batch_retry_dead(OTHER, child.id()).await;
    assert_eq!(retried.unwrap(), 2);
    wait_for("parent's on_success", 20, async || {
        callback_runs(&env, "parent_success").await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let done = batch_info(&env, "default", parent.id()).await;
    assert_eq!(
        (
            done.state,
            done.dead,
            done.succeeded,
            done.pending,
            done.total
        ),
        (BatchState::Finished, 0, 1, 0, 1)
    );
    assert_eq!(callback_runs(&env, "parent_complete").await, 1);
    assert_eq!(callback_runs(&env, "parent_death").await, 1);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_levels_deep_complete_from_the_bottom_up() {
    let env = test_redis("nested_deep").await;
    let client = env.client();
    let top = client
        .batch()
        .on_success(callback(&env, "top"))
        .create()
        .await
        .unwrap();
    let middle = top
        .child()
        .queue(OTHER)
        .on_success(callback(&env, "middle"))
        .create()
        .await
        .unwrap();
    let bottom = middle
        .child()
        .on_success(callback(&env, "bottom"))
        .enqueue((0..2).map(|_| env.test_job()))
        .await
        .unwrap();
    assert_eq!(bottom.queue(), "default");
    middle.add([env.test_job()]).await.unwrap();
    middle.seal().await.unwrap();
    top.seal().await.unwrap();

    let worker = worker(&env).await;
    wait_for("top's on_success", 30, async || {
        callback_runs(&env, "top").await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(callback_runs(&env, "middle").await, 1);
    assert_eq!(callback_runs(&env, "bottom").await, 1);
    let m = batch_info(&env, OTHER, middle.id()).await;
    assert_eq!((m.total, m.succeeded, m.pending), (2, 2, 0));
    let t = batch_info(&env, "default", top.id()).await;
    assert_eq!((t.total, t.succeeded, t.pending), (1, 1, 0));
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_never_sealed_is_cancelled_at_its_open_timeout_and_its_parent_completes() {
    let env = test_redis("nested_open_timeout").await;
    let client = env.client();
    let parent = client
        .batch()
        .on_success(callback(&env, "parent_success"))
        .on_complete(callback(&env, "parent_complete"))
        .create()
        .await
        .unwrap();
    // The producer "dies" after creating and filling the child: no seal.
    let child = parent
        .child()
        .queue(OTHER)
        .open_timeout(Duration::from_millis(300))
        .create()
        .await
        .unwrap();
    child.add([env.test_job()]).await.unwrap();
    parent.seal().await.unwrap();

    let worker = worker(&env).await;
    wait_for("parent's on_complete", 20, async || {
        callback_runs(&env, "parent_complete").await == 1
    })
    .await;
    let done = batch_info(&env, "default", parent.id()).await;
    assert_eq!((done.cancelled, done.pending), (1, 0));
    let c = batch_info(&env, OTHER, child.id()).await;
    assert_eq!(
        (c.state, c.succeeded, c.pending),
        (BatchState::Cancelled, 1, 0)
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(callback_runs(&env, "parent_success").await, 0);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicated_outbox_entry_counts_nothing() {
    let env = test_redis("nested_duplicate").await;
    let client = env.client();
    let parent = client
        .batch()
        .on_complete(callback(&env, "parent_complete"))
        .create()
        .await
        .unwrap();
    let child = parent
        .child()
        .queue(OTHER)
        .enqueue([env.test_job()])
        .await
        .unwrap();
    parent.add([env.test_job()]).await.unwrap();
    parent.seal().await.unwrap();
    let worker = worker(&env).await;
    wait_for("parent's on_complete", 20, async || {
        callback_runs(&env, "parent_complete").await == 1
    })
    .await;
    // The releaser delivered the child's end, then (say it crashed before
    // the ZREM) delivers it again, with an older one besides.
    let mut redis = redis::Client::open(env.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let outbox = format!("{}:{{{OTHER}}}:releases", env.prefix());
    for entry in [
        format!("b|{}|succeeded|1", child.id()),
        format!("b|{}|dead|1", child.id()),
        format!("b|{}|pending|0", child.id()),
    ] {
        let _: () = redis::cmd("ZADD")
            .arg(&outbox)
            .arg(1)
            .arg(entry)
            .query_async(&mut redis)
            .await
            .unwrap();
    }
    wait_for("the outbox swept", 10, async || {
        let left: u64 = redis::cmd("ZCARD")
            .arg(&outbox)
            .query_async(&mut redis.clone())
            .await
            .unwrap();
        left == 0
    })
    .await;
    let done = batch_info(&env, "default", parent.id()).await;
    assert_eq!(
        (done.total, done.succeeded, done.dead, done.pending),
        (2, 2, 0, 0)
    );
    assert_eq!(callback_runs(&env, "parent_complete").await, 1);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_of_a_finished_parent_is_refused_and_not_left_held() {
    let env = test_redis("nested_closed_parent").await;
    let client = env.client();
    let parent = client.batch().enqueue([env.test_job()]).await.unwrap();
    let worker = worker(&env).await;
    wait_for("parent finished", 20, async || {
        batch_info(&env, "default", parent.id()).await.state == BatchState::Finished
    })
    .await;
    let err = parent
        .child()
        .queue(OTHER)
        .enqueue([env.test_job()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, jobqueue_core::Error::BatchClosed { .. }),
        "{err}"
    );
    let children = client.admin().batches(OTHER, None, 0, 10).await.unwrap();
    assert!(
        children
            .iter()
            .all(|b| b.state == BatchState::Cancelled && !b.held)
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_that_completes_a_child_tells_its_parent_at_once() {
    let env = test_redis("nested_at_once").await;
    let client = env.client();
    let parent = client
        .batch()
        .on_complete(callback(&env, "parent_complete"))
        .create()
        .await
        .unwrap();
    parent
        .child()
        .queue(OTHER)
        .enqueue([env.test_job()])
        .await
        .unwrap();
    parent.seal().await.unwrap();
    // No reaper sweep within the test: only the completing worker can tell.
    let worker = test_worker(&env)
        .queues(["default", OTHER])
        .reap_interval(Duration::from_secs(600))
        .start()
        .await
        .unwrap();
    wait_for("parent's on_complete", 10, async || {
        callback_runs(&env, "parent_complete").await == 1
    })
    .await;
    assert_eq!(batch_info(&env, "default", parent.id()).await.succeeded, 1);
    worker.shutdown().await;
}

/// A job of a batch that creates, from its perform, a child batch of its
/// own batch on [`OTHER`] with `jobs` test jobs.
#[derive(Serialize, Deserialize)]
struct SpawnChild {
    url: String,
    prefix: String,
    jobs: TestJob,
}

impl Job for SpawnChild {
    const NAME: &'static str = "spawn_child";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let Some(batch) = ctx.batch() else {
            return Err(JobError::permanent("not a job of a batch"));
        };
        let config = ClientConfig::new(self.url.clone()).prefix(self.prefix.clone());
        let client = Client::with_config(config)
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
        client
            .batch_ref(ctx.queue(), batch)
            .await
            .map_err(|e| JobError::retry(e.to_string()))?
            .child()
            .queue(OTHER)
            .enqueue([self.jobs.clone(), self.jobs.clone()])
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_creates_a_child_of_its_own_batch() {
    let env = test_redis("nested_from_a_job").await;
    let client = env.client();
    let spawn = SpawnChild {
        url: env.url().to_owned(),
        prefix: env.prefix().to_owned(),
        jobs: env.test_job(),
    };
    let parent = client
        .batch()
        .on_success(callback(&env, "parent_success"))
        .enqueue([spawn])
        .await
        .unwrap();
    let worker = test_worker(&env)
        .register::<SpawnChild>()
        .queues(["default", OTHER])
        .reap_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    wait_for("parent's on_success", 20, async || {
        callback_runs(&env, "parent_success").await == 1
    })
    .await;
    let done = batch_info(&env, "default", parent.id()).await;
    // The spawning job and its child, each one unit, both succeeded.
    assert_eq!((done.total, done.succeeded, done.pending), (2, 2, 0));
    assert_eq!(done.children.len(), 1);
    assert_eq!(done.children[0].state, "succeeded");
    assert_eq!(env.done().await.len(), 2);
    worker.shutdown().await;
}

/// Cancelling a parent cancels, depth first, every child still pending in
/// it, on any queue: their waiting jobs go to the cancelled set, none runs,
/// and no callback fires anywhere. (Before, the children ran on.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_parent_cancels_its_pending_children_on_any_queue() {
    let env = test_redis("nested_cancel_cascade").await;
    let client = env.client();
    let parent = client
        .batch()
        .on_complete(callback(&env, "parent_complete"))
        .create()
        .await
        .unwrap();
    parent.add([env.test_job()]).await.unwrap();
    let child = parent
        .child()
        .queue(OTHER)
        .on_complete(callback(&env, "child_complete"))
        .create()
        .await
        .unwrap();
    child.add((0..3).map(|_| env.test_job())).await.unwrap();
    let grandchild = child
        .child()
        .on_complete(callback(&env, "grandchild_complete"))
        .enqueue((0..2).map(|_| env.test_job()))
        .await
        .unwrap();
    child.seal().await.unwrap();
    parent.seal().await.unwrap();

    let cancelled = client.admin().batch_cancel("default", parent.id()).await;
    assert_eq!(
        cancelled.unwrap(),
        1 + 3 + 2,
        "the parent's, child's and grandchild's jobs"
    );
    for (queue, id) in [
        ("default", parent.id()),
        (OTHER, child.id()),
        ("default", grandchild.id()),
    ] {
        assert_eq!(
            batch_info(&env, queue, id).await.state,
            BatchState::Cancelled,
            "{id}"
        );
    }
    for queue in ["default", OTHER] {
        let q = client.admin().queue(queue).await.unwrap();
        assert_eq!(q.ready, 0, "{queue}: {q:?}");
    }
    // Again: nothing left to cancel, nothing counted twice.
    assert_eq!(
        client
            .admin()
            .batch_cancel("default", parent.id())
            .await
            .unwrap(),
        0
    );

    let worker = worker(&env).await;
    // The children's ends reach their parents through the outbox.
    wait_for("the parent to count its child cancelled", 20, async || {
        batch_info(&env, "default", parent.id()).await.cancelled == 2
    })
    .await;
    assert_eq!(
        env.started().await.len(),
        0,
        "a job of a cancelled batch ran"
    );
    for name in ["parent_complete", "child_complete", "grandchild_complete"] {
        assert_eq!(callback_runs(&env, name).await, 0, "{name} fired");
    }
    worker.shutdown().await;
}

/// A parent's retry-dead also retries, depth first, the dead jobs of every
/// child it counts dead, on any queue, so one operator action brings a
/// whole tree back; each child then counts once more in its parent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parents_retry_dead_retries_its_dead_children_too() {
    let env = test_redis("nested_retry_cascade").await;
    let client = env.client();
    let parent = client
        .batch()
        .on_success(callback(&env, "parent_success"))
        .on_complete(callback(&env, "parent_complete"))
        .create()
        .await
        .unwrap();
    let child = parent.child().queue(OTHER).create().await.unwrap();
    child.add_with([dying(&env), dying(&env)]).await.unwrap();
    child.seal().await.unwrap();
    parent.add_with([dying(&env)]).await.unwrap();
    parent.seal().await.unwrap();

    let worker = worker(&env).await;
    wait_for("parent's on_complete", 20, async || {
        callback_runs(&env, "parent_complete").await == 1
    })
    .await;
    let dead = batch_info(&env, "default", parent.id()).await;
    assert_eq!((dead.dead, dead.succeeded), (2, 0), "{dead:?}");

    let retried = client
        .admin()
        .batch_retry_dead("default", parent.id())
        .await;
    assert_eq!(
        retried.unwrap(),
        1 + 2,
        "the parent's dead job and the child's two"
    );
    wait_for("parent's on_success", 20, async || {
        callback_runs(&env, "parent_success").await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let done = batch_info(&env, "default", parent.id()).await;
    assert_eq!(
        (done.state, done.dead, done.succeeded, done.total),
        (BatchState::Finished, 0, 2, 2),
        "{done:?}"
    );
    assert_eq!(batch_info(&env, OTHER, child.id()).await.succeeded, 2);
    assert_eq!(callback_runs(&env, "parent_complete").await, 1);
    worker.shutdown().await;
}
