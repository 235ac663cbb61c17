//! The basic job life: enqueue (single, delayed, bulk, with options), run,
//! acknowledge; queue order and priorities; the job context.

use std::time::Duration;

use jobqueue_core::{
    ClientConfig, ErrorKind, Job, JobContext, JobError, JobSet, JobState, PreparedJob,
};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::eventually;
use serde::{Deserialize, Serialize};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueued_jobs_run_once_and_are_counted() {
    let env = test_redis("run-once").await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        let id = env.client().enqueue(env.test_job()).await.unwrap();
        assert_eq!(id.get_version_num(), 7, "job ids are UUID v7");
        ids.push(id);
    }
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "v7 ids are time-ordered"
    );
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(info.ready, 20);

    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(20, Duration::from_secs(10)).await);
    worker.shutdown().await;

    let done = env.done().await;
    for id in &ids {
        assert_eq!(
            done.get(&id.to_string()),
            Some(&1),
            "job {id} ran exactly once"
        );
    }
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(
        (info.ready, info.active, info.retry, info.dead),
        (0, 0, 0, 0)
    );
    assert_eq!(info.processed, 20, "stats are flushed at shutdown");
    assert_eq!(env.client().admin().totals().await.unwrap().processed, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_job_options_travel_with_the_job() {
    let env = test_redis("options").await;
    let id = env
        .client()
        .job(env.test_job())
        .queue("mail")
        .max_attempts(3)
        .timeout(Duration::from_secs(7))
        .enqueue()
        .await
        .unwrap();
    let ready = env
        .client()
        .admin()
        .list_ready("mail", 0, 10)
        .await
        .unwrap();
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].id, id);
    assert_eq!(ready[0].state, JobState::Ready);
    assert_eq!(ready[0].job_type.as_deref(), Some("test_job"));
    assert_eq!(ready[0].max_attempts, Some(3));
    assert!(
        env.client()
            .admin()
            .list_ready("default", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let worker = test_worker(&env).queues(["mail"]).start().await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_enqueue_keeps_order_and_spans_queues() {
    let env = test_redis("bulk").await;
    let ids = env
        .client()
        .enqueue_bulk((0..2500).map(|n| NoopJob { n }))
        .await
        .unwrap();
    assert_eq!(ids.len(), 2500);
    let admin = env.client().admin();
    assert_eq!(admin.queue("default").await.unwrap().ready, 2500);
    let first = admin.list_ready("default", 0, 1).await.unwrap();
    let last = admin.list_ready("default", 2499, 1).await.unwrap();
    assert_eq!(first[0].id, ids[0]);
    assert_eq!(last[0].id, ids[2499]);

    // Mixed queues, delays and priorities in one call.
    let prepared: Vec<PreparedJob> = vec![
        env.client()
            .job(NoopJob { n: 1 })
            .queue("a")
            .prepare()
            .unwrap(),
        env.client()
            .job(NoopJob { n: 2 })
            .queue("b")
            .priority(3)
            .prepare()
            .unwrap(),
        env.client()
            .job(NoopJob { n: 3 })
            .queue("a")
            .delay(Duration::from_secs(60))
            .prepare()
            .unwrap(),
    ];
    let ids = env.client().enqueue_prepared(prepared).await.unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(admin.queue("a").await.unwrap().ready, 1);
    assert_eq!(admin.queue("a").await.unwrap().scheduled, 1);
    assert_eq!(admin.queue("b").await.unwrap().ready, 1);
    let names = admin.queue_names().await.unwrap();
    assert_eq!(names, vec!["a", "b", "default"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_queue_order_drains_earlier_queues_first() {
    let env = test_redis("strict").await;
    let mut low = Vec::new();
    let mut high = Vec::new();
    for _ in 0..5 {
        low.push(
            env.client()
                .job(env.test_job())
                .queue("low")
                .enqueue()
                .await
                .unwrap(),
        );
    }
    for _ in 0..5 {
        high.push(
            env.client()
                .job(env.test_job())
                .queue("high")
                .enqueue()
                .await
                .unwrap(),
        );
    }
    let worker = test_worker(&env)
        .queues(["high", "low"])
        .concurrency(1)
        .start()
        .await
        .unwrap();
    assert!(env.wait_done(10, Duration::from_secs(10)).await);
    worker.shutdown().await;
    let order: Vec<String> = env
        .attempts()
        .await
        .iter()
        .map(|a| a.split(':').next().unwrap_or_default().to_owned())
        .collect();
    let expected: Vec<String> = high.iter().chain(&low).map(ToString::to_string).collect();
    assert_eq!(order, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_queues_serve_every_queue() {
    let env = test_redis("weighted").await;
    for queue in ["a", "b", "c"] {
        for _ in 0..20 {
            env.client()
                .job(env.test_job())
                .queue(queue)
                .enqueue()
                .await
                .unwrap();
        }
    }
    let worker = test_worker(&env)
        .weighted_queues([("a", 5), ("b", 3), ("c", 1)])
        .concurrency(2)
        .start()
        .await
        .unwrap();
    assert!(env.wait_done(60, Duration::from_secs(15)).await);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn higher_priority_runs_first_within_a_queue() {
    let env = test_redis("priority").await;
    let mut order_expected = Vec::new();
    let mut normal = Vec::new();
    for _ in 0..3 {
        normal.push(env.client().enqueue(env.test_job()).await.unwrap());
    }
    let low = env
        .client()
        .job(env.test_job())
        .priority(-5)
        .enqueue()
        .await
        .unwrap();
    let mut urgent = Vec::new();
    for _ in 0..3 {
        urgent.push(
            env.client()
                .job(env.test_job())
                .priority(10)
                .enqueue()
                .await
                .unwrap(),
        );
    }
    order_expected.extend(urgent.iter().map(ToString::to_string));
    order_expected.extend(normal.iter().map(ToString::to_string));
    order_expected.push(low.to_string());

    let worker = test_worker(&env)
        .concurrency(1)
        .max_fetch_batch(1)
        .start()
        .await
        .unwrap();
    assert!(env.wait_done(7, Duration::from_secs(10)).await);
    worker.shutdown().await;
    let order: Vec<String> = env
        .attempts()
        .await
        .iter()
        .map(|a| a.split(':').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(order, order_expected);
    let err = env
        .client()
        .job(env.test_job())
        .priority(101)
        .enqueue()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_enqueues_are_refused_with_a_clear_error_and_write_nothing() {
    let env = test_redis("refuse").await;
    let small = jobqueue_core::Client::with_config(
        ClientConfig::new(env.url())
            .prefix(env.prefix())
            .max_payload_bytes(64),
    )
    .await
    .unwrap();
    let mut big = env.test_job();
    big.key = "x".repeat(100);
    let err = small.enqueue(big).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(
        err.to_string().contains("above the limit of 64 bytes"),
        "{err}"
    );

    let err = env
        .client()
        .job(env.test_job())
        .queue("bad name{")
        .enqueue()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("queue name"), "{err}");

    let err = env
        .client()
        .job(env.test_job())
        .max_attempts(0)
        .enqueue()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(
        env.keys().await.unwrap().is_empty(),
        "nothing was written: {:?}",
        env.keys().await.unwrap()
    );
}

/// Writes what it sees in its context to Redis.
#[derive(Serialize, Deserialize)]
struct ContextProbe {
    url: String,
    key: String,
}

impl Job for ContextProbe {
    const NAME: &'static str = "context_probe";
    const QUEUE: &'static str = "probes";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let seen = serde_json::json!({
            "id": ctx.id().to_string(),
            "type": ctx.job_type(),
            "queue": ctx.queue(),
            "attempt": ctx.attempt(),
            "max_attempts": ctx.max_attempts(),
            "enqueued_at_ms": ctx.enqueued_at().timestamp_millis(),
            "worker_id": ctx.worker_id(),
            "cancelled": ctx.is_cancelled(),
        });
        let mut conn = redis::Client::open(self.url.as_str())?
            .get_multiplexed_async_connection()
            .await?;
        redis::cmd("SET")
            .arg(&self.key)
            .arg(seen.to_string())
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_context_tells_the_job_who_it_is() {
    let env = test_redis("context").await;
    let key = format!("{}:probe", env.prefix());
    let before = chrono::Utc::now().timestamp_millis();
    let id = env
        .client()
        .enqueue(ContextProbe {
            url: env.url().to_owned(),
            key: key.clone(),
        })
        .await
        .unwrap();
    let worker = test_worker(&env)
        .register::<ContextProbe>()
        .queues(["probes"])
        .start()
        .await
        .unwrap();
    let worker_id = worker.worker_id().to_owned();
    let mut conn = env.connection().await.unwrap();
    let mut seen: Option<String> = None;
    assert!(
        eventually(Duration::from_secs(10), || {
            let mut conn = conn.clone();
            let key = key.clone();
            async move {
                redis::cmd("GET")
                    .arg(&key)
                    .query_async::<Option<String>>(&mut conn)
                    .await
                    .unwrap()
                    .is_some()
            }
        })
        .await
    );
    seen = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap_or(seen);
    worker.shutdown().await;
    let seen: serde_json::Value = serde_json::from_str(&seen.unwrap()).unwrap();
    assert_eq!(seen["id"], id.to_string());
    assert_eq!(seen["type"], "context_probe");
    assert_eq!(seen["queue"], "probes");
    assert_eq!(seen["attempt"], 1);
    assert_eq!(seen["max_attempts"], 25);
    assert_eq!(seen["worker_id"], worker_id);
    assert_eq!(seen["cancelled"], false);
    let enqueued = seen["enqueued_at_ms"].as_i64().unwrap();
    assert!(enqueued >= before - 1 && enqueued <= chrono::Utc::now().timestamp_millis());
    let _ = JobSet::Dead;
}
