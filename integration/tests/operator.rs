//! The operator API the dashboard and CLI build on: inspect, retry,
//! delete, purge, pause and resume.

use std::time::Duration;

use jobqueue_core::JobSet;
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::{DrainOptions, TestRedis, eventually};

/// `n` jobs that die on their first run (drained through the worker's run
/// path, as a worker runs them).
async fn make_dead_jobs(env: &TestRedis, n: usize) -> Vec<uuid::Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let mut job = env.test_job();
        job.fail_times = 1;
        ids.push(
            env.client()
                .job(job)
                .max_attempts(1)
                .enqueue()
                .await
                .unwrap(),
        );
    }
    let report = env
        .drain_with(test_worker(env), DrainOptions::new().queues(["default"]))
        .await
        .unwrap();
    assert_eq!(report.dead(), n, "{report:?}");
    assert_eq!(
        env.client().admin().queue("default").await.unwrap().dead,
        n as u64
    );
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrying_a_dead_job_gives_it_fresh_attempts() {
    let env = test_redis("retry-dead").await;
    let ids = make_dead_jobs(&env, 3).await;
    let admin = env.client().admin();
    assert_eq!(
        admin
            .retry("default", JobSet::Dead, &ids[..1])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        admin
            .retry("default", JobSet::Dead, &ids[..1])
            .await
            .unwrap(),
        0,
        "already moved"
    );
    let info = admin.queue("default").await.unwrap();
    assert_eq!((info.ready, info.dead), (1, 2));
    let ready = admin.list_ready("default", 0, 10).await.unwrap();
    assert_eq!(ready[0].attempt, 0, "attempts start over");
    assert_eq!(ready[0].errors.len(), 1, "history is kept");

    // It runs again: attempt 1 of a fresh set, which this job passes (it
    // only fails on attempt 1... of max 1, so it fails and dies again).
    let worker = test_worker(&env).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("default").await.unwrap().dead == 3
        })
        .await
    );
    worker.shutdown().await;
    assert_eq!(env.started().await.get(&ids[0].to_string()), Some(&2));

    assert_eq!(admin.retry_all("default", JobSet::Dead).await.unwrap(), 3);
    assert_eq!(admin.queue("default").await.unwrap().ready, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_dead_jobs_one_or_all() {
    let env = test_redis("delete-dead").await;
    let ids = make_dead_jobs(&env, 4).await;
    let admin = env.client().admin();
    let listed = admin.list("default", JobSet::Dead, 0, 10).await.unwrap();
    assert_eq!(listed.len(), 4);
    assert!(
        listed.windows(2).all(|w| w[0].at >= w[1].at),
        "newest first"
    );
    assert_eq!(
        admin
            .delete("default", JobSet::Dead, &ids[..1])
            .await
            .unwrap(),
        1
    );
    assert!(admin.job("default", ids[0]).await.unwrap().is_none());
    assert_eq!(admin.delete_all("default", JobSet::Dead).await.unwrap(), 3);
    let info = admin.queue("default").await.unwrap();
    assert_eq!(info.dead, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_actions_work_in_batches_over_large_sets() {
    let env = test_redis("bulk-actions").await;
    let jobs = (0..2500).map(|_| {
        env.client()
            .job(env.test_job())
            .delay(Duration::from_secs(3600))
            .prepare()
            .unwrap()
    });
    env.client()
        .enqueue_prepared(jobs.collect::<Vec<_>>())
        .await
        .unwrap();
    let admin = env.client().admin();
    assert_eq!(admin.queue("default").await.unwrap().scheduled, 2500);
    let page = admin
        .list("default", JobSet::Scheduled, 1000, 1000)
        .await
        .unwrap();
    assert_eq!(page.len(), 1000);
    assert_eq!(
        admin.retry_all("default", JobSet::Scheduled).await.unwrap(),
        2500
    );
    let info = admin.queue("default").await.unwrap();
    assert_eq!((info.scheduled, info.ready), (0, 2500));
    assert_eq!(admin.purge("default").await.unwrap(), 2500);
    assert_eq!(admin.queue("default").await.unwrap().ready, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_queue_is_not_fetched_until_resumed() {
    let env = test_redis("pause").await;
    let admin = env.client().admin();
    let worker = test_worker(&env).start().await.unwrap();
    admin.pause("default").await.unwrap();
    assert!(admin.queue("default").await.unwrap().paused);
    for _ in 0..5 {
        env.client().enqueue(env.test_job()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(env.done().await.is_empty(), "nothing runs while paused");
    assert_eq!(admin.queue("default").await.unwrap().ready, 5);
    admin.resume("default").await.unwrap();
    assert!(env.wait_done(5, Duration::from_secs(5)).await);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_info_reports_depth_latency_and_workers() {
    let env = test_redis("queue-info").await;
    env.client().enqueue(env.test_job()).await.unwrap();
    env.client().enqueue(env.test_job()).await.unwrap();
    env.client()
        .enqueue_in(Duration::from_secs(60), env.test_job())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let admin = env.client().admin();
    let info = admin.queue("default").await.unwrap();
    assert_eq!((info.ready, info.scheduled), (2, 1));
    assert!(
        info.latency_ms >= 300 && info.latency_ms < 10_000,
        "{}",
        info.latency_ms
    );

    let mut slow = env.test_job();
    slow.sleep_ms = 1500;
    env.client()
        .job(slow)
        .queue("slow")
        .enqueue()
        .await
        .unwrap();
    let worker = test_worker(&env).queues(["slow"]).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            admin.queue("slow").await.unwrap().active == 1
        })
        .await
    );
    let active = admin.list_active("slow", 10).await.unwrap();
    assert_eq!(active.len(), 1);
    let workers = admin.workers().await.unwrap();
    assert_eq!(workers.len(), 1);
    assert_eq!(workers[0].id, worker.worker_id());
    assert_eq!(workers[0].queues, vec!["slow"]);
    worker.shutdown().await;
    assert!(
        admin.workers().await.unwrap().is_empty(),
        "a stopped worker leaves the registry"
    );
}
