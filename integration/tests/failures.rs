//! Failure handling: retries with backoff, the dead set with error history,
//! permanent errors, snoozing, panics, timeouts and bad input that must
//! never take the worker down (DESIGN.md invariant 3).

use std::time::Duration;

use jobqueue_core::store::DeadLimits;
use jobqueue_core::wire::record::FailureKind;
use jobqueue_core::{BackoffPolicy, JobSet};
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};

async fn dead_count(env: &TestRedis) -> u64 {
    env.client().admin().queue("default").await.unwrap().dead
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_retried_until_it_succeeds() {
    let env = test_redis("retry-ok").await;
    let mut job = env.test_job();
    job.fail_times = 2;
    let id = env.client().enqueue(job).await.unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    worker.shutdown().await;
    assert_eq!(env.started().await.get(&id.to_string()), Some(&3));
    assert_eq!(
        env.attempts().await,
        vec![format!("{id}:1"), format!("{id}:2"), format!("{id}:3")]
    );
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(
        (info.processed, info.failed, info.retry, info.dead),
        (1, 2, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_job_is_dead_with_its_error_history() {
    let env = test_redis("exhausted").await;
    let mut job = env.test_job();
    job.fail_times = 100;
    let id = env.client().enqueue(job).await.unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            dead_count(&env).await == 1
        })
        .await
    );
    worker.shutdown().await;
    assert_eq!(
        env.started().await.get(&id.to_string()),
        Some(&5),
        "TestJob allows 5 attempts"
    );
    let dead = env
        .client()
        .admin()
        .list("default", JobSet::Dead, 0, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let job = &dead[0];
    assert_eq!(job.id, id);
    assert_eq!(job.attempt, 5);
    let attempts: Vec<u32> = job.errors.iter().map(|e| e.attempt).collect();
    assert_eq!(attempts, vec![1, 2, 3, 4, 5]);
    assert!(job.errors.iter().all(|e| e.kind == FailureKind::Error));
    assert_eq!(job.errors[4].message, "planned failure on attempt 5");
    assert!(job.at.is_some(), "time of death is recorded");
    assert_eq!(
        env.client().admin().queue("default").await.unwrap().failed,
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_error_goes_dead_at_once() {
    let env = test_redis("permanent").await;
    let mut job = env.test_job();
    job.permanent = true;
    let id = env.client().enqueue(job).await.unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            dead_count(&env).await == 1
        })
        .await
    );
    worker.shutdown().await;
    assert_eq!(env.started().await.get(&id.to_string()), Some(&1));
    let dead = env
        .client()
        .admin()
        .job("default", id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.errors.len(), 1);
    assert_eq!(dead.errors[0].message, "this job can never succeed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snooze_runs_the_job_later_without_counting_an_attempt() {
    let env = test_redis("snooze").await;
    let mut job = env.test_job();
    job.snooze_ms = Some(300);
    let id = env.client().enqueue(job).await.unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    worker.shutdown().await;
    // The snoozed run was attempt 1, and so was the run after it.
    assert_eq!(
        env.attempts().await,
        vec![format!("{id}:1"), format!("{id}:1")]
    );
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!((info.processed, info.failed), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_is_retried_then_dead_and_the_worker_keeps_going() {
    let env = test_redis("panic").await;
    let mut job = env.test_job();
    job.panic = true;
    let id = env.client().enqueue(job).await.unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            dead_count(&env).await == 1
        })
        .await
    );
    let good = env.client().enqueue(env.test_job()).await.unwrap();
    assert!(
        env.wait_done(1, Duration::from_secs(10)).await,
        "worker still runs jobs"
    );
    worker.shutdown().await;
    assert_eq!(env.done().await.get(&good.to_string()), Some(&1));
    let dead = env
        .client()
        .admin()
        .job("default", id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.errors.len(), 5);
    assert!(dead.errors.iter().all(|e| e.kind == FailureKind::Panic));
    assert!(
        dead.errors[0].message.contains("panics on purpose"),
        "{}",
        dead.errors[0].message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_past_its_timeout_is_cancelled_and_its_slot_freed() {
    let env = test_redis("timeout").await;
    let mut job = env.test_job();
    job.sleep_ms = 30_000;
    job.ignore_cancel = true;
    let id = env
        .client()
        .job(job)
        .timeout(Duration::from_millis(200))
        .max_attempts(2)
        .enqueue()
        .await
        .unwrap();
    let worker = test_worker(&env).concurrency(1).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            dead_count(&env).await == 1
        })
        .await
    );
    // The only slot is free again.
    let good = env.client().enqueue(env.test_job()).await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    worker.shutdown().await;
    assert_eq!(env.done().await.get(&good.to_string()), Some(&1));
    let dead = env
        .client()
        .admin()
        .job("default", id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.errors.len(), 2);
    assert!(dead.errors.iter().all(|e| e.kind == FailureKind::Timeout));
    assert_eq!(dead.errors[0].message, "timed out after 200 ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_job_backoff_policy_sets_the_retry_time() {
    let env = test_redis("backoff").await;
    let mut job = env.test_job();
    job.fail_times = 1;
    let id = env
        .client()
        .job(job)
        .backoff(BackoffPolicy::fixed(Duration::from_secs(30)))
        .enqueue()
        .await
        .unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("default").await.unwrap().retry == 1
        })
        .await
    );
    worker.shutdown().await;
    let waiting = admin.job("default", id).await.unwrap().unwrap();
    let wait = waiting.at.unwrap() - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::seconds(25) && wait <= chrono::Duration::seconds(30),
        "retry due in {wait}"
    );
    assert_eq!(waiting.errors.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_records_are_dead_lettered_with_a_reason_and_nothing_stops() {
    let env = test_redis("malformed").await;
    let client = env.client();
    let store = client.store();
    let queue = store.queue_keys("default").unwrap();
    let mut expected = Vec::new();
    for n in 0..100 {
        let id = uuid::Uuid::now_v7();
        let record = match n % 4 {
            // A payload of the wrong shape for its type.
            0 => format!("{{\"id\":\"{id}\",\"type\":\"test_job\"}}\n{{\"wrong\":{n}}}"),
            // A type no worker knows.
            1 => format!("{{\"id\":\"{id}\",\"type\":\"no_such_job\"}}\n{{}}"),
            // A broken envelope.
            2 => format!("{{\"id\":\"{id}\",\"type\":\"test_job\",\"attempt\":\"x\n{{}}"),
            // Random bytes after a valid start, no newline at all.
            _ => format!("{{\"id\":\"{id}\",\u{1}\u{2}garbage"),
        };
        store
            .enqueue_ready(&queue, record.as_bytes())
            .await
            .unwrap();
        expected.push((id, n % 4));
    }
    let worker = test_worker(&env).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(20), || async {
            dead_count(&env).await == 100
        })
        .await
    );
    let good = env.client().enqueue(env.test_job()).await.unwrap();
    assert!(
        env.wait_done(1, Duration::from_secs(10)).await,
        "worker alive"
    );
    worker.shutdown().await;
    assert_eq!(env.done().await.get(&good.to_string()), Some(&1));

    let admin = env.client().admin();
    for (id, kind) in expected {
        let dead = admin
            .job("default", id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} dead"));
        let error = dead.errors.last().expect("a reason");
        let (want_kind, want_text) = match kind {
            0 => (FailureKind::Payload, "does not match job type 'test_job'"),
            1 => (
                FailureKind::UnknownType,
                "no handler for job type 'no_such_job'",
            ),
            _ => (FailureKind::Malformed, "not a valid job record"),
        };
        assert_eq!(error.kind, want_kind, "{id}: {}", error.message);
        assert!(error.message.contains(want_text), "{id}: {}", error.message);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dead_set_is_bounded_and_trimming_is_counted() {
    let env = test_redis("dead-cap").await;
    for _ in 0..8 {
        let mut job = env.test_job();
        job.permanent = true;
        env.client().enqueue(job).await.unwrap();
    }
    let worker = test_worker(&env)
        .concurrency(1)
        .dead_limits(DeadLimits {
            max_jobs: 5,
            max_age: Duration::from_secs(3600),
        })
        .start()
        .await
        .unwrap();
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("default").await.unwrap().dead_trimmed == 3
        })
        .await
    );
    worker.shutdown().await;
    let info = admin.queue("default").await.unwrap();
    assert_eq!(info.dead, 5);
    assert_eq!(env.started().await.len(), 8);
    // Trimmed records are gone from the jobs hash too: only 5 records remain.
    let mut conn = env.connection().await.unwrap();
    let records: u64 = redis::cmd("HLEN")
        .arg(env.client().store().queue_keys("default").unwrap().jobs())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(records, 5);
}
