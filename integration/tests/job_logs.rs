//! Per-job logs (`docs/search-logs-events.md`, "Logs"): the events a job
//! emits in its span are stored per attempt under `P:{Q}:logs:<id>`,
//! capped (lines, bytes, with a final "… K lines dropped" line) and
//! redacted; a dead job keeps them, a deleted or succeeded one takes them
//! with it; a worker without `.job_logs(…)` writes nothing.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Mutex, Once};
use std::time::Duration;

use jobqueue_core::{AttemptLog, Job, JobContext, JobError, JobSet, JobState};
use jobqueue_integration::{test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use jobqueue_worker::{JobLogLayer, JobLogs};
use serde::{Deserialize, Serialize};
use tracing_subscriber::prelude::*;
use uuid::Uuid;

/// Logs `lines` lines of `text` per run, then fails the first
/// `fail_attempts` runs of jobs with this `text` (two attempts at most).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LoggingJob {
    lines: u32,
    text: String,
    fail_attempts: u32,
    /// After logging, wait until an operator cancels the run.
    #[serde(default)]
    wait_for_cancel: bool,
}

impl Job for LoggingJob {
    const NAME: &'static str = "logging_job";
    const MAX_ATTEMPTS: u32 = 2;

    fn retry_delay(_retry: u32) -> Duration {
        Duration::from_millis(1500)
    }

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        for line in 0..self.lines {
            tracing::info!(line, "{} attempt {}", self.text, ctx.attempt());
        }
        let run = {
            let mut runs = RUNS.lock().unwrap();
            let count = runs.entry(self.text.clone()).or_insert(0);
            *count += 1;
            *count
        };
        if self.wait_for_cancel {
            ctx.cancellation_token().cancelled().await;
            // A job that notices its cancellation stops with an error
            // (one that returns Ok succeeded after all).
            return Err(JobError::retry("stopped: cancelled"));
        }
        if run <= self.fail_attempts {
            return Err(JobError::retry("failed on purpose"));
        }
        Ok(())
    }
}

/// Runs so far per job text (each test uses its own text).
static RUNS: Mutex<BTreeMap<String, u32>> = Mutex::new(BTreeMap::new());

/// The process's subscriber: the capture layer, nothing filtered.
fn install_layer() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(JobLogLayer::new()),
        );
    });
}

async fn env(label: &str) -> TestRedis {
    install_layer();
    test_redis(label).await
}

async fn enqueue(env: &TestRedis, job: LoggingJob) -> Uuid {
    env.client().job(job).enqueue().await.unwrap()
}

async fn wait_state(env: &TestRedis, id: Uuid, state: JobState) {
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(15), || async {
            matches!(admin.job("default", id).await, Ok(Some(info)) if info.state == state)
        })
        .await,
        "job {id} reached {state:?}"
    );
}

async fn logs(env: &TestRedis, id: Uuid) -> Vec<AttemptLog> {
    env.client().admin().job_logs("default", id).await.unwrap()
}

async fn logs_key_exists(env: &TestRedis, id: Uuid) -> bool {
    let mut conn = redis::Client::open(env.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let key = format!("{}:{{default}}:logs:{id}", env.prefix());
    redis::cmd("EXISTS")
        .arg(key)
        .query_async::<u64>(&mut conn)
        .await
        .unwrap()
        == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_are_kept_capped_and_redacted_until_the_record_is_deleted() {
    let env = env("job-logs-caps").await;
    fn redact(line: &str) -> Cow<'_, str> {
        if line.contains("secret") {
            Cow::Owned(line.replace("secret", "***"))
        } else {
            Cow::Borrowed(line)
        }
    }
    let worker = test_worker(&env)
        .register::<LoggingJob>()
        .job_logs(JobLogs::new().max_lines(4).redact(redact))
        .start()
        .await
        .unwrap();
    let id = enqueue(
        &env,
        LoggingJob {
            lines: 10,
            text: "password=secret".into(),
            fail_attempts: 2,
            ..LoggingJob::default()
        },
    )
    .await;
    wait_state(&env, id, JobState::Dead).await;
    let kept = logs(&env, id).await;
    assert_eq!(
        kept.iter().map(|log| log.attempt).collect::<Vec<_>>(),
        [1, 2],
        "{kept:?}"
    );
    for log in &kept {
        assert_eq!(log.lines.len(), 5, "4 lines and the dropped line: {log:?}");
        for (i, line) in log.lines[..4].iter().enumerate() {
            assert!(
                line.contains(&format!(
                    "INFO password=*** attempt {} line={i}",
                    log.attempt
                )),
                "{line}"
            );
        }
        // The job's 10 lines and the worker's own line about the failure,
        // emitted in the job's span too: 7 dropped.
        assert_eq!(log.lines[4], "… 7 lines dropped");
        assert!(log.lines.iter().all(|line| !line.contains("secret")));
    }

    let deleted = env
        .client()
        .admin()
        .delete("default", JobSet::Dead, &[id])
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert!(!logs_key_exists(&env, id).await, "deleted with the record");
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_byte_cap_drops_the_lines_that_do_not_fit() {
    let env = env("job-logs-bytes").await;
    let worker = test_worker(&env)
        .register::<LoggingJob>()
        .job_logs(JobLogs::new().max_kib(1))
        .start()
        .await
        .unwrap();
    let id = enqueue(
        &env,
        LoggingJob {
            lines: 10,
            text: "x".repeat(300),
            fail_attempts: 1,
            ..LoggingJob::default()
        },
    )
    .await;
    assert!(
        eventually(Duration::from_secs(10), || async {
            !logs(&env, id).await.is_empty()
        })
        .await
    );
    let kept = logs(&env, id).await;
    let lines = &kept[0].lines;
    assert_eq!(lines.len(), 4, "3 lines of ~330 bytes fit 1 KiB: {lines:?}");
    // 7 of the job's lines and the worker's line about the failure.
    assert_eq!(lines[3], "… 8 lines dropped");
    let bytes: usize = lines[..3].iter().map(String::len).sum();
    assert!(bytes <= 1024, "{bytes}");
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_takes_the_earlier_attempts_logs_with_its_record() {
    let env = env("job-logs-success").await;
    let worker = test_worker(&env)
        .register::<LoggingJob>()
        .job_logs(JobLogs::new())
        .start()
        .await
        .unwrap();
    let id = enqueue(
        &env,
        LoggingJob {
            lines: 1,
            text: "hello".into(),
            fail_attempts: 1,
            ..LoggingJob::default()
        },
    )
    .await;
    // Attempt 1 failed: its log waits with the job in the retry set.
    assert!(
        eventually(Duration::from_secs(10), || async {
            logs(&env, id).await.len() == 1
        })
        .await,
        "attempt 1's log stored"
    );
    let first = logs(&env, id).await.remove(0).lines;
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(
        first[0].contains("INFO hello attempt 1 line=0"),
        "{first:?}"
    );
    assert!(
        first[1].contains("failed on purpose"),
        "the worker's own line: {first:?}"
    );
    // Attempt 2 succeeds: record and logs are gone.
    assert!(
        eventually(Duration::from_secs(10), || async {
            !logs_key_exists(&env, id).await
        })
        .await,
        "logs deleted with the succeeded job"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_off_by_default() {
    let env = env("job-logs-off").await;
    let worker = test_worker(&env)
        .register::<LoggingJob>()
        .start()
        .await
        .unwrap();
    let id = enqueue(
        &env,
        LoggingJob {
            lines: 3,
            text: "not kept".into(),
            fail_attempts: 2,
            ..LoggingJob::default()
        },
    )
    .await;
    wait_state(&env, id, JobState::Dead).await;
    assert!(!logs_key_exists(&env, id).await, "nothing written");
    assert!(logs(&env, id).await.is_empty());
    worker.shutdown().await;
}

/// A dead job an operator retries runs again at attempt 1, with its error
/// history: its success must still delete the logs its earlier attempts
/// stored (the worker deletes on a first-attempt success only when the
/// record shows an earlier run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_dead_job_that_succeeds_takes_its_logs_with_it() {
    let env = env("job-logs-retried").await;
    let worker = test_worker(&env)
        .register::<LoggingJob>()
        .job_logs(JobLogs::new())
        .start()
        .await
        .unwrap();
    let id = enqueue(
        &env,
        LoggingJob {
            lines: 1,
            text: "retried by an operator".into(),
            fail_attempts: 2,
            ..LoggingJob::default()
        },
    )
    .await;
    wait_state(&env, id, JobState::Dead).await;
    assert_eq!(logs(&env, id).await.len(), 2);
    let retried = env
        .client()
        .admin()
        .retry("default", JobSet::Dead, &[id])
        .await
        .unwrap();
    assert_eq!(retried, 1);
    assert!(
        eventually(Duration::from_secs(10), || async {
            !logs_key_exists(&env, id).await
        })
        .await,
        "the success at attempt 1 deleted the dead job's logs"
    );
    worker.shutdown().await;
}

/// A running job an operator cancels keeps the log of that run (written by
/// the job's task: `cancel.lua` already filed the job).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_keeps_its_log() {
    let env = env("job-logs-cancel").await;
    let worker = test_worker(&env)
        .register::<LoggingJob>()
        .job_logs(JobLogs::new())
        .start()
        .await
        .unwrap();
    let text = "waiting for the operator";
    let id = enqueue(
        &env,
        LoggingJob {
            lines: 2,
            text: text.into(),
            fail_attempts: 0,
            wait_for_cancel: true,
        },
    )
    .await;
    assert!(
        eventually(Duration::from_secs(10), || async {
            RUNS.lock().unwrap().get(text).copied() == Some(1)
        })
        .await,
        "the job started"
    );
    env.client().cancel("default", id).await.unwrap();
    wait_state(&env, id, JobState::Cancelled).await;
    assert!(
        eventually(Duration::from_secs(10), || async {
            !logs(&env, id).await.is_empty()
        })
        .await,
        "the cancelled run's log stored"
    );
    let kept = logs(&env, id).await;
    assert_eq!(kept[0].attempt, 1);
    assert!(
        kept[0].lines[0].contains("waiting for the operator attempt 1 line=0"),
        "{kept:?}"
    );
    assert!(kept[0].lines[1].contains("line=1"), "{kept:?}");
    assert!(
        kept[0].lines.last().unwrap().contains("job cancelled"),
        "the worker's line: {kept:?}"
    );
    worker.shutdown().await;
}
