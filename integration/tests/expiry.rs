//! Expiry: a job not started by its expiry is dropped (counted, listed),
//! never run late; one started in time runs.

use std::time::Duration;

use jobqueue_core::JobState;
use jobqueue_integration::probe::{ProbeJob, probe_starts};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{WorkerProcess, test_redis};
use jobqueue_testing::{TestRedis, eventually};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

async fn expired_counter(env: &TestRedis) -> Option<u64> {
    let mut conn = env.connection().await.unwrap();
    redis::cmd("HGET")
        .arg(format!("{}:{{default}}:stats", env.prefix()))
        .arg("expired")
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_not_started_in_time_are_dropped_not_run_late() {
    let env = test_redis("expiry").await;
    let key = format!("{}:probe", env.prefix());
    let probe = || ProbeJob::new(env.url(), &key);
    let client = &env.client();
    let mut short = Vec::new();
    let mut long = Vec::new();
    for _ in 0..20 {
        short.push(
            client
                .job(probe())
                .expires_in(Duration::from_millis(300))
                .enqueue()
                .await
                .unwrap(),
        );
        long.push(
            client
                .job(probe())
                .expires_in(Duration::from_secs(120))
                .enqueue()
                .await
                .unwrap(),
        );
    }
    // Due only after it expires: dropped too.
    short.push(
        client
            .job(probe())
            .delay(Duration::from_millis(600))
            .expires_at(chrono::Utc::now() + chrono::Duration::milliseconds(400))
            .enqueue()
            .await
            .unwrap(),
    );
    // A unique job that expires frees its key.
    short.push(
        client
            .job(ProbeJob {
                hold_ms: 1,
                ..probe()
            })
            .unique_for(Duration::from_secs(3600))
            .expires_in(Duration::from_millis(300))
            .enqueue()
            .await
            .unwrap(),
    );
    tokio::time::sleep(Duration::from_millis(700)).await;

    let spec = WorkerSpec::new(env.url(), env.prefix());
    let workers: Vec<_> = (0..2)
        .map(|_| WorkerProcess::start(WORKER, &spec))
        .collect();
    let admin = client.admin();
    assert!(
        eventually(Duration::from_secs(15), || async {
            probe_starts(env.url(), &key).await.len() == long.len()
                && admin.expired_count("default").await.unwrap() == short.len() as u64
        })
        .await,
        "ran {} (expected {}), expired {} (expected {})",
        probe_starts(env.url(), &key).await.len(),
        long.len(),
        admin.expired_count("default").await.unwrap(),
        short.len()
    );
    for worker in workers {
        worker.terminate();
        assert!(worker.wait(Duration::from_secs(15)));
    }
    let ran: Vec<_> = probe_starts(env.url(), &key)
        .await
        .iter()
        .map(|s| s.id)
        .collect();
    assert!(ran.iter().all(|id| long.contains(id)), "an expired job ran");
    let expired = admin.list_expired("default", 0, 100).await.unwrap();
    let mut expired_ids: Vec<_> = expired.iter().map(|j| j.id).collect();
    expired_ids.sort();
    short.sort();
    assert_eq!(expired_ids, short);
    assert!(expired.iter().all(|j| j.state == JobState::Expired));
    assert_eq!(expired_counter(&env).await, Some(short.len() as u64));
    let info = admin.queue("default").await.unwrap();
    assert_eq!(
        (
            info.ready,
            info.scheduled,
            info.retry,
            info.dead,
            info.active
        ),
        (0, 0, 0, 0, 0)
    );
    let locks: Vec<String> = env
        .keys()
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.contains(":unique:"))
        .collect();
    assert!(locks.is_empty(), "{locks:?}");
}
