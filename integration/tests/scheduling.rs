//! Delayed and scheduled jobs: on time, never early, woken not polled.

use std::time::Duration;

use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::TestRedis;

async fn lateness(env: &TestRedis) -> Vec<i64> {
    let mut conn = env.connection().await.unwrap();
    redis::cmd("LRANGE")
        .arg(format!("{}:lateness", env.trace_key()))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_jobs_never_run_early() {
    let env = test_redis("never-early").await;
    let worker = test_worker(&env).concurrency(20).start().await.unwrap();
    for n in 0..60u64 {
        let delay = Duration::from_millis(200 + (n * 37) % 1000);
        let mut job = env.test_job();
        job.due_ms = Some(chrono::Utc::now().timestamp_millis() + delay.as_millis() as i64);
        env.client().enqueue_in(delay, job).await.unwrap();
    }
    assert!(env.wait_done(60, Duration::from_secs(15)).await);
    worker.shutdown().await;
    let late = lateness(&env).await;
    assert_eq!(late.len(), 60);
    // Redis and this test share one host clock; the job records its start
    // with the same clock the due time was computed with.
    assert!(late.iter().all(|ms| *ms >= 0), "a job ran early: {late:?}");
    // On time means promptly, not "within a poll interval" (a generous bound
    // on a shared machine; the benchmark measures the real figures).
    assert!(late.iter().all(|ms| *ms < 1000), "a job ran late: {late:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_job_wakes_the_scheduler() {
    let env = test_redis("wake").await;
    let worker = test_worker(&env).start().await.unwrap();
    // The scheduler now sleeps until this far-away job...
    env.client()
        .enqueue_in(Duration::from_secs(3600), env.test_job())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...and must wake for this one, long before its 5 s safety poll.
    let mut job = env.test_job();
    job.due_ms = Some(chrono::Utc::now().timestamp_millis() + 300);
    env.client()
        .enqueue_in(Duration::from_millis(300), job)
        .await
        .unwrap();
    assert!(env.wait_done(1, Duration::from_secs(3)).await);
    worker.shutdown().await;
    let late = lateness(&env).await;
    assert!(late[0] >= 0 && late[0] < 1000, "{late:?}");
    assert_eq!(
        env.client()
            .admin()
            .queue("default")
            .await
            .unwrap()
            .scheduled,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_scheduled_at_an_instant_run_then_and_past_instants_run_now() {
    let env = test_redis("run-at").await;
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(500);
    let mut job = env.test_job();
    job.due_ms = Some(at.timestamp_millis());
    let scheduled = env.client().enqueue_at(at, job).await.unwrap();
    let past = env
        .client()
        .enqueue_at(
            chrono::Utc::now() - chrono::Duration::hours(1),
            env.test_job(),
        )
        .await
        .unwrap();
    let admin = env.client().admin();
    let info = admin.queue("default").await.unwrap();
    assert_eq!(
        (info.scheduled, info.ready),
        (1, 1),
        "past instants are ready at once"
    );
    let waiting = admin.job("default", scheduled).await.unwrap().unwrap();
    assert_eq!(
        waiting.at.map(|t| t.timestamp_millis()),
        Some(at.timestamp_millis())
    );

    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(2, Duration::from_secs(5)).await);
    worker.shutdown().await;
    let done = env.done().await;
    assert!(done.contains_key(&scheduled.to_string()) && done.contains_key(&past.to_string()));
    assert!(lateness(&env).await.iter().all(|ms| *ms >= 0));
}
