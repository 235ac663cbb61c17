//! Cancellation: a waiting job never runs; a running job's token fires in
//! whichever process runs it; the job ends in the cancelled set.

use std::time::Duration;

use jobqueue_core::{CancelOutcome, CancelledFrom, JobState};
use jobqueue_integration::probe::{ProbeJob, probe_starts};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{WorkerProcess, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

fn probe(env: &TestRedis) -> ProbeJob {
    ProbeJob::new(env.url(), &format!("{}:probe", env.prefix()))
}

/// `"<id> <ms>"` lines a held probe wrote when its token fired.
async fn cancel_traces(env: &TestRedis) -> Vec<(String, i64)> {
    let mut conn = env.connection().await.unwrap();
    let lines: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("{}:probe:cancelled", env.prefix()))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    lines
        .iter()
        .map(|line| {
            let (id, at) = line.split_once(' ').unwrap();
            (id.to_owned(), at.parse().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_jobs_that_are_cancelled_never_run() {
    let env = test_redis("cancel-waiting").await;
    let client = &env.client();
    let ready: Vec<_> = {
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(client.enqueue(probe(&env)).await.unwrap());
        }
        ids
    };
    let prioritised = client.job(probe(&env)).priority(5).enqueue().await.unwrap();
    let scheduled = client
        .enqueue_in(Duration::from_millis(300), probe(&env))
        .await
        .unwrap();

    for (id, from) in [
        (ready[1], CancelledFrom::Ready),
        (prioritised, CancelledFrom::Ready),
        (scheduled, CancelledFrom::Scheduled),
    ] {
        assert_eq!(
            client.cancel("default", id).await.unwrap(),
            CancelOutcome::Cancelled { from }
        );
        // Twice is not an error, just nothing left to cancel.
        assert_eq!(
            client.cancel("default", id).await.unwrap(),
            CancelOutcome::NotFound
        );
    }

    let worker = test_worker(&env).start().await.unwrap();
    let key = format!("{}:probe", env.prefix());
    assert!(
        eventually(Duration::from_secs(10), || async {
            probe_starts(env.url(), &key).await.len() >= 2
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(800)).await; // past the scheduled one's time
    worker.shutdown().await;
    let ran: Vec<_> = probe_starts(env.url(), &key)
        .await
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ran.len(), 2, "{ran:?}");
    assert!(ran.contains(&ready[0]) && ran.contains(&ready[2]));

    let admin = client.admin();
    let cancelled = admin.list_cancelled("default", 0, 10).await.unwrap();
    assert_eq!(cancelled.len(), 3);
    assert!(
        cancelled
            .iter()
            .all(|job| job.state == JobState::Cancelled && job.at.is_some())
    );
    assert_eq!(admin.cancelled_count("default").await.unwrap(), 3);
    assert_eq!(admin.queue("default").await.unwrap().ready, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_is_cancelled_in_the_process_that_runs_it() {
    let env = test_redis("cancel-running").await;
    let key = format!("{}:probe", env.prefix());
    let spec = WorkerSpec::new(env.url(), env.prefix());
    let workers: Vec<_> = (0..2)
        .map(|_| WorkerProcess::start(WORKER, &spec))
        .collect();
    let mut held = probe(&env);
    held.hold_ms = 60_000;
    let id = env.client().enqueue(held).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            !probe_starts(env.url(), &key).await.is_empty()
        })
        .await,
        "the job did not start"
    );
    let asked_at = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        env.client().cancel("default", id).await.unwrap(),
        CancelOutcome::Cancelled {
            from: CancelledFrom::Active
        }
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            !cancel_traces(&env).await.is_empty()
        })
        .await,
        "the job's token never fired"
    );
    let (traced_id, fired_at) = cancel_traces(&env).await[0].clone();
    assert_eq!(traced_id, id.to_string());
    // The spec is "within a second"; the bound is generous for a loaded
    // machine (it takes a few ms).
    assert!(
        fired_at - asked_at < 2000,
        "token fired {} ms after the request",
        fired_at - asked_at
    );

    let admin = env.client().admin();
    let cancelled = admin.list_cancelled("default", 0, 10).await.unwrap();
    assert_eq!(cancelled.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
    // Not retried, not dead, not leased: it ended as cancelled.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let info = admin.queue("default").await.unwrap();
    assert_eq!(
        (info.ready, info.retry, info.dead, info.active),
        (0, 0, 0, 0),
        "{info:?}"
    );
    assert_eq!(probe_starts(env.url(), &key).await.len(), 1, "it ran again");
    for worker in workers {
        worker.terminate();
        assert!(worker.wait(Duration::from_secs(15)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_ignores_its_token_is_dropped_and_frees_its_slot() {
    let env = test_redis("cancel-ignored").await;
    let key = format!("{}:probe", env.prefix());
    let worker = test_worker(&env).concurrency(1).start().await.unwrap();
    let mut stubborn = probe(&env);
    stubborn.hold_ms = 60_000;
    stubborn.ignore_cancel = true;
    let id = env.client().enqueue(stubborn).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            !probe_starts(env.url(), &key).await.is_empty()
        })
        .await
    );
    env.client().cancel("default", id).await.unwrap();
    // The only slot is free again within the grace period: the next job runs.
    let next = env.client().enqueue(probe(&env)).await.unwrap();
    assert!(
        eventually(Duration::from_secs(8), || async {
            probe_starts(env.url(), &key)
                .await
                .iter()
                .any(|s| s.id == next)
        })
        .await,
        "the cancelled job kept its slot"
    );
    worker.shutdown().await;
    assert_eq!(
        env.client()
            .admin()
            .cancelled_count("default")
            .await
            .unwrap(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_unique_job_frees_its_key() {
    let env = test_redis("cancel-unique").await;
    let client = env.client();
    let send = || {
        client
            .job(probe(&env))
            .delay(Duration::from_secs(3600))
            .unique_for(Duration::from_secs(3600))
            .enqueue_unique()
    };
    let first = send().await.unwrap();
    env.client().cancel("default", first.id()).await.unwrap();
    let second = send().await.unwrap();
    assert!(
        matches!(second, jobqueue_core::UniqueOutcome::Enqueued { id } if id != first.id()),
        "{second:?}"
    );
}
