//! A tracked job's status from enqueue to its end, with real worker
//! processes: queued (or scheduled) before any worker runs it, running
//! with its progress, queued again with stale progress after a shutdown
//! hands it back or its lost worker's lease is reclaimed, retrying, and
//! its end; an unknown id has no status.

use std::time::Duration;

use jobqueue_core::{BackoffPolicy, JobStatus, JobStatusState, Progress};
use jobqueue_integration::WorkerProcess;
use jobqueue_integration::probe::ProbeJob;
use jobqueue_integration::test_redis;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_testing::{TestRedis, eventually};
use uuid::Uuid;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

fn probe(env: &TestRedis) -> ProbeJob {
    ProbeJob::new(env.url(), &format!("{}:probe", env.prefix()))
}

/// A tracked probe that reports 65 % and then holds for a minute.
fn long_report(env: &TestRedis) -> ProbeJob {
    ProbeJob {
        hold_ms: 60_000,
        ignore_cancel: true,
        progress: Some((65, "rendering".into())),
        ..probe(env)
    }
}

/// Starts a worker process and a tracked long report on it; returns once
/// the report runs and showed its progress.
async fn run_long_report(env: &TestRedis, spec: &WorkerSpec) -> (WorkerProcess, Uuid) {
    let worker = WorkerProcess::start(WORKER, spec);
    let id = env
        .client()
        .job(long_report(env))
        .track()
        .enqueue()
        .await
        .unwrap();
    let running = wait_for(env, id, |s| s.progress.is_some()).await;
    assert_eq!(running.state, JobStatusState::Running);
    assert_eq!(running.progress, progress(65, "rendering", false));
    (worker, id)
}

async fn status(env: &TestRedis, id: Uuid) -> Option<JobStatus> {
    env.client().status(id).await.unwrap()
}

async fn wait_for(env: &TestRedis, id: Uuid, what: impl Fn(&JobStatus) -> bool) -> JobStatus {
    let seen = eventually(Duration::from_secs(15), || async {
        status(env, id).await.is_some_and(|s| what(&s))
    })
    .await;
    let last = status(env, id).await;
    assert!(seen, "status never matched; last: {last:?}");
    last.unwrap()
}

fn progress(percent: u8, message: &str, stale: bool) -> Option<Progress> {
    Some(Progress {
        percent,
        message: message.into(),
        stale,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracked_job_has_a_status_from_enqueue_to_its_end() {
    let env = test_redis("status-life").await;
    let client = env.client();

    // No worker yet: the tracked job is queued, the delayed one scheduled;
    // an unknown id and an untracked job have none.
    let job = ProbeJob {
        hold_ms: 800,
        progress: Some((40, "reading".into())),
        result: Some(serde_json::json!({ "rows": 3 })),
        ..probe(&env)
    };
    let id = client.job(job).track().enqueue().await.unwrap();
    let queued = status(&env, id).await.expect("a status at enqueue");
    assert_eq!(queued.state, JobStatusState::Queued);
    assert_eq!(queued.progress, None);
    assert!(queued.updated_at.is_some());
    let later = client
        .job(probe(&env))
        .delay(Duration::from_secs(3600))
        .track()
        .enqueue()
        .await
        .unwrap();
    assert_eq!(
        status(&env, later).await.map(|s| s.state),
        Some(JobStatusState::Scheduled)
    );
    assert_eq!(status(&env, Uuid::now_v7()).await, None);
    let untracked = client.enqueue(probe(&env)).await.unwrap();
    assert_eq!(status(&env, untracked).await, None);

    // Waiting for a parent: waiting.
    let parent = client
        .job(probe(&env))
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let child = client
        .job(probe(&env))
        .after(parent)
        .track()
        .enqueue()
        .await
        .unwrap();
    assert_eq!(
        status(&env, child).await.map(|s| s.state),
        Some(JobStatusState::Waiting)
    );

    // A unique job refused because another holds its key leaves no status
    // under its own id, and the holder's is untouched.
    let unique = || {
        client
            .job(ProbeJob {
                hold_ms: 1,
                ..probe(&env)
            })
            .unique_for(Duration::from_secs(60))
            .track()
    };
    let holder = unique().enqueue().await.unwrap();
    let refused = unique().prepare().unwrap();
    let refused_id = refused.id();
    let outcomes = client.enqueue_prepared_outcomes([refused]).await.unwrap();
    assert_eq!(
        outcomes[0].as_ref().unwrap(),
        &jobqueue_core::UniqueOutcome::Duplicate { existing: holder }
    );
    assert_eq!(status(&env, refused_id).await, None);
    assert_eq!(
        status(&env, holder).await.map(|s| s.state),
        Some(JobStatusState::Queued)
    );

    // A worker starts it: running, with its progress; then succeeded.
    let worker = WorkerProcess::start(WORKER, &WorkerSpec::new(env.url(), env.prefix()));
    let running = wait_for(&env, id, |s| s.progress.is_some()).await;
    assert_eq!(running.state, JobStatusState::Running);
    assert_eq!(running.progress, progress(40, "reading", false));
    let done = wait_for(&env, id, |s| s.state.is_final()).await;
    assert_eq!(done.state, JobStatusState::Succeeded);
    assert_eq!(done.result, Some(serde_json::json!({ "rows": 3 })));
    assert_eq!(
        status(&env, later).await.map(|s| s.state),
        Some(JobStatusState::Scheduled)
    );

    // A failed attempt with attempts left: retrying, with the error; the
    // last one: dead.
    let flaky = client
        .job(ProbeJob {
            fail: Some("smtp down".into()),
            ..probe(&env)
        })
        .backoff(BackoffPolicy::fixed(Duration::from_secs(3600)))
        .track()
        .enqueue()
        .await
        .unwrap();
    let retrying = wait_for(&env, flaky, |s| {
        s.state != JobStatusState::Queued && s.state != JobStatusState::Running
    })
    .await;
    assert_eq!(retrying.state, JobStatusState::Retrying);
    assert!(retrying.error.unwrap_or_default().contains("smtp down"));
    let doomed = client
        .job(ProbeJob {
            fail: Some("bad address".into()),
            ..probe(&env)
        })
        .max_attempts(1)
        .track()
        .enqueue()
        .await
        .unwrap();
    let dead = wait_for(&env, doomed, |s| s.state.is_final()).await;
    assert_eq!(dead.state, JobStatusState::Dead);
    assert!(dead.error.unwrap_or_default().contains("bad address"));

    // Cancelled before it ran: cancelled.
    client.cancel("default", later).await.unwrap();
    assert_eq!(
        status(&env, later).await.map(|s| s.state),
        Some(JobStatusState::Cancelled)
    );

    worker.terminate();
    assert!(worker.wait(Duration::from_secs(15)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_handed_back_at_shutdown_is_queued_with_stale_progress() {
    let env = test_redis("status-handback").await;
    let spec = WorkerSpec {
        grace_ms: 300,
        ..WorkerSpec::new(env.url(), env.prefix())
    };
    let (worker, id) = run_long_report(&env, &spec).await;

    worker.terminate();
    assert!(worker.wait(Duration::from_secs(15)));
    let handed_back = status(&env, id).await.unwrap();
    assert_eq!(handed_back.state, JobStatusState::Queued);
    assert_eq!(handed_back.progress, progress(65, "rendering", true));

    // The next worker starts it again: running, the old progress still
    // marked stale until the new run reports its own.
    let worker = WorkerProcess::start(WORKER, &spec);
    let again = wait_for(&env, id, |s| s.state == JobStatusState::Running).await;
    assert!(again.progress.is_some());
    let fresh = wait_for(&env, id, |s| s.progress.as_ref().is_some_and(|p| !p.stale)).await;
    assert_eq!(fresh.progress, progress(65, "rendering", false));
    worker.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_reclaimed_from_a_lost_worker_is_queued_with_stale_progress() {
    let env = test_redis("status-reclaim").await;
    let spec = WorkerSpec {
        lease_ms: 500,
        ..WorkerSpec::new(env.url(), env.prefix())
    };
    let (worker, id) = run_long_report(&env, &spec).await;
    let worker_id = worker.worker_id.clone();
    worker.kill();

    // What every worker's reaper does once the lease lapsed.
    let store = env.client().store().clone();
    let queue = store.keys().queue("default").unwrap();
    let reclaimed = eventually(Duration::from_secs(10), || async {
        store.reclaim(&queue, &worker_id).await.unwrap() == Some(1)
    })
    .await;
    assert!(reclaimed, "the lease never lapsed");
    let back = status(&env, id).await.unwrap();
    assert_eq!(back.state, JobStatusState::Queued);
    assert_eq!(back.progress, progress(65, "rendering", true));
}

/// A job type tracked by its definition.
#[derive(serde::Serialize, serde::Deserialize)]
struct Report {
    pages: u32,
}

impl jobqueue_core::Job for Report {
    const NAME: &'static str = "tracked_report";
    const TRACK: bool = true;

    async fn perform(
        &self,
        _ctx: &jobqueue_core::JobContext,
    ) -> Result<(), jobqueue_core::JobError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_with_track_set_is_tracked_without_asking() {
    let env = test_redis("status-track-const").await;
    let id = env.client().enqueue(Report { pages: 3 }).await.unwrap();
    assert_eq!(
        status(&env, id).await.map(|s| s.state),
        Some(JobStatusState::Queued)
    );
    let later = env
        .client()
        .enqueue_in(Duration::from_secs(60), Report { pages: 1 })
        .await
        .unwrap();
    assert_eq!(
        status(&env, later).await.map(|s| s.state),
        Some(JobStatusState::Scheduled)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_job_reads_queued_once_it_is_due() {
    let env = test_redis("status-due").await;
    let id = env
        .client()
        .job(probe(&env))
        .delay(Duration::from_millis(400))
        .track()
        .enqueue()
        .await
        .unwrap();
    assert_eq!(
        status(&env, id).await.map(|s| s.state),
        Some(JobStatusState::Scheduled)
    );
    // No worker runs: the job is due but nobody took it, like a ready job.
    let due = wait_for(&env, id, |s| s.state == JobStatusState::Queued).await;
    assert!(due.progress.is_none());
}
