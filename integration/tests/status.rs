//! Progress and results: reported by the job in a worker process, read by
//! id from the client, kept for the configured time.

use std::time::Duration;

use jobqueue_core::{Error, JobStatusState, Progress};
use jobqueue_integration::probe::ProbeJob;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{WorkerProcess, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use serde::Deserialize;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

fn probe(env: &TestRedis) -> ProbeJob {
    ProbeJob::new(env.url(), &format!("{}:probe", env.prefix()))
}

#[derive(Debug, Deserialize, PartialEq)]
struct Summary {
    rows: u32,
    name: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_and_result_are_readable_by_id() {
    let env = test_redis("status").await;
    let spec = WorkerSpec::new(env.url(), env.prefix());
    let worker = WorkerProcess::start(WORKER, &spec);
    let client = &env.client();

    let job = ProbeJob {
        hold_ms: 1500,
        progress: Some((50, "halfway".into())),
        result: Some(serde_json::json!({ "rows": 42, "name": "report" })),
        ..probe(&env)
    };
    let id = client.enqueue(job).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            client.status(id).await.unwrap().is_some_and(|s| {
                s.state == JobStatusState::Running
                    && s.progress
                        == Some(Progress {
                            percent: 50,
                            message: "halfway".into(),
                            stale: false,
                        })
            })
        })
        .await,
        "no progress seen: {:?}",
        client.status(id).await.unwrap()
    );
    let summary: Option<Summary> = client
        .wait_result(id, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        summary,
        Some(Summary {
            rows: 42,
            name: "report".into()
        })
    );
    let status = client.status(id).await.unwrap().unwrap();
    assert_eq!(status.state, JobStatusState::Succeeded);
    assert!(status.updated_at.is_some());

    // Tracked: a status even without reports; untracked: none at all.
    let tracked = client.job(probe(&env)).track().enqueue().await.unwrap();
    let untracked = client.enqueue(probe(&env)).await.unwrap();
    let nothing: Option<Summary> = client
        .wait_result(tracked, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(nothing, None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(client.status(untracked).await.unwrap(), None);

    // A job that dies: the wait says how it ended, with the error.
    let doomed = client
        .job(ProbeJob {
            fail: Some("disk full".into()),
            ..probe(&env)
        })
        .track()
        .enqueue()
        .await
        .unwrap();
    match client
        .wait_result::<Summary>(doomed, Duration::from_secs(10))
        .await
    {
        Err(Error::JobNotSucceeded { state, error, .. }) => {
            assert_eq!(state, "dead");
            assert!(error.unwrap_or_default().contains("disk full"));
        }
        other => panic!("{other:?}"),
    }

    // A job that has not run yet: the wait times out.
    let later = client
        .job(probe(&env))
        .delay(Duration::from_secs(3600))
        .track()
        .enqueue()
        .await
        .unwrap();
    let waited = client
        .wait_result::<Summary>(later, Duration::from_millis(300))
        .await;
    assert!(
        matches!(waited, Err(Error::WaitTimeout { .. })),
        "{waited:?}"
    );

    worker.terminate();
    assert!(worker.wait(Duration::from_secs(15)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_are_kept_for_the_configured_time_only() {
    let env = test_redis("status-ttl").await;
    let worker = test_worker(&env)
        .status_ttl(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let id = env
        .client()
        .job(ProbeJob {
            result: Some(serde_json::json!(7)),
            ..probe(&env)
        })
        .enqueue()
        .await
        .unwrap();
    let seven: Option<u32> = env
        .client()
        .wait_result(id, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(seven, Some(7));
    let mut conn = env.connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{}:{{default}}:status:{id}", env.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 1000, "PTTL {ttl}");
    assert!(
        eventually(Duration::from_secs(5), || async {
            env.client().status(id).await.unwrap().is_none()
        })
        .await
    );
    worker.shutdown().await;
}
