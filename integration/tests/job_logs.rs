//! Per-job logs (`docs/search-logs-events.md`, "Logs"): the events a job
//! emits in its span are stored per attempt under `P:{Q}:logs:<id>`,
//! capped (lines, bytes, with a final "… K lines dropped" line) and
//! redacted; a dead job keeps them, a deleted or succeeded one takes them
//! with it; a worker without `.job_logs(…)` writes nothing; jobs of one
//! queue run side by side by several worker processes each keep their own
//! lines, one log per attempt.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use jobqueue_core::{AttemptLog, Job, JobContext, JobError, JobSet, JobState};
use jobqueue_integration::job_logs::{LogLinesJob, logs_key_exists, test_redis_with_job_logs};
use jobqueue_integration::test_worker;
use jobqueue_integration::waiting::wait_for;
use jobqueue_integration::worker_process::{WorkerProcess, WorkerSpec};
use jobqueue_testing::{TestRedis, eventually};
use jobqueue_worker::JobLogs;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

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

async fn enqueue(env: &TestRedis, job: LoggingJob) -> Uuid {
    env.client().job(job).enqueue().await.unwrap()
}

async fn wait_state(env: &TestRedis, id: Uuid, state: JobState) {
    let admin = env.client().admin();
    wait_for(
        &format!("job {id} reached {state:?}"),
        15,
        async || matches!(admin.job("default", id).await, Ok(Some(info)) if info.state == state),
    )
    .await;
}

async fn logs(env: &TestRedis, id: Uuid) -> Vec<AttemptLog> {
    env.client().admin().job_logs("default", id).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_are_kept_capped_and_redacted_until_the_record_is_deleted() {
    let env = test_redis_with_job_logs("job-logs-caps").await;
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
    assert!(
        !logs_key_exists(&env, "default", id).await,
        "deleted with the record"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_byte_cap_drops_the_lines_that_do_not_fit() {
    let env = test_redis_with_job_logs("job-logs-bytes").await;
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
    wait_for("the log stored", 10, async || {
        !logs(&env, id).await.is_empty()
    })
    .await;
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
    let env = test_redis_with_job_logs("job-logs-success").await;
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
    wait_for("attempt 1's log stored", 10, async || {
        logs(&env, id).await.len() == 1
    })
    .await;
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
    wait_for("logs deleted with the succeeded job", 10, async || {
        !logs_key_exists(&env, "default", id).await
    })
    .await;
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_off_by_default() {
    let env = test_redis_with_job_logs("job-logs-off").await;
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
    assert!(
        !logs_key_exists(&env, "default", id).await,
        "nothing written"
    );
    assert!(logs(&env, id).await.is_empty());
    worker.shutdown().await;
}

/// A dead job an operator retries runs again at attempt 1, with its error
/// history: its success must still delete the logs its earlier attempts
/// stored (the worker deletes on a first-attempt success only when the
/// record shows an earlier run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_dead_job_that_succeeds_takes_its_logs_with_it() {
    let env = test_redis_with_job_logs("job-logs-retried").await;
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
    wait_for(
        "the success at attempt 1 deleted the dead job's logs",
        10,
        async || !logs_key_exists(&env, "default", id).await,
    )
    .await;
    worker.shutdown().await;
}

/// A running job an operator cancels keeps the log of that run (written by
/// the job's task: `cancel.lua` already filed the job).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_keeps_its_log() {
    let env = test_redis_with_job_logs("job-logs-cancel").await;
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
    wait_for("the job started", 10, async || {
        RUNS.lock().unwrap().get(text).copied() == Some(1)
    })
    .await;
    env.client().cancel("default", id).await.unwrap();
    wait_state(&env, id, JobState::Cancelled).await;
    wait_for("the cancelled run's log stored", 10, async || {
        !logs(&env, id).await.is_empty()
    })
    .await;
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

/// Worker processes sharing the queue in the multi-process test.
const PROCESSES: usize = 3;
/// Lines each attempt logs there.
const LINES: u32 = 12;

/// The text of job `i`'s lines: delimited, so no job's text is part of
/// another's.
fn job_text(i: usize) -> String {
    format!("<job {i}>")
}

/// Jobs of one queue run concurrently by several worker processes (10
/// runs at a time in each, interleaving): every dead job's log holds one
/// entry per attempt, each with exactly that job's and that attempt's
/// lines, in order, all from one process, then the worker's line about the
/// failure; the jobs that succeeded left no key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_by_several_processes_keep_their_own_lines_one_log_per_attempt() {
    let env = test_redis_with_job_logs("job-logs-processes").await;
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.env.push(("JQ_JOB_LOGS".into(), "1".into()));
    let workers: Vec<WorkerProcess> = (0..PROCESSES)
        .map(|_| WorkerProcess::start(WORKER, &spec))
        .collect();
    // Two jobs in three fail both attempts and go dead; the third succeeds
    // at once.
    let mut jobs = Vec::new();
    for i in 0..60 {
        let dies = i % 3 != 0;
        let job = LogLinesJob {
            lines: LINES,
            text: job_text(i),
            fail_attempts: if dies { 2 } else { 0 },
        };
        jobs.push((i, dies, env.client().job(job).enqueue().await.unwrap()));
    }
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(30), || async {
            let info = admin.queue("default").await.unwrap();
            info.dead == 40 && info.processed == 20 && info.retry == 0 && info.active == 0
        })
        .await,
        "every job ended: {:?}",
        admin.queue("default").await
    );

    let mut pids = BTreeSet::new();
    for (i, dies, id) in jobs {
        if !dies {
            assert!(
                !logs_key_exists(&env, "default", id).await,
                "job {i} succeeded"
            );
            continue;
        }
        let kept = logs(&env, id).await;
        assert_eq!(
            kept.iter().map(|log| log.attempt).collect::<Vec<_>>(),
            [1, 2],
            "job {i}: {kept:?}"
        );
        for log in &kept {
            let (own, worker_line) = log.lines.split_at(LINES as usize);
            assert_eq!(worker_line.len(), 1, "job {i}: {log:?}");
            assert!(
                worker_line[0].contains("failed on purpose"),
                "job {i}: {log:?}"
            );
            let mut attempt_pids = BTreeSet::new();
            for (n, line) in own.iter().enumerate() {
                let expected =
                    format!("INFO {} attempt {} line={n} pid=", job_text(i), log.attempt);
                assert!(
                    line.contains(&expected),
                    "job {i}, line {n}: {line:?} in {log:?}"
                );
                attempt_pids.insert(line.rsplit("pid=").next().unwrap().to_owned());
            }
            assert_eq!(
                attempt_pids.len(),
                1,
                "one process ran the attempt: {log:?}"
            );
            pids.extend(attempt_pids);
        }
    }
    assert!(pids.len() >= 2, "the processes shared the jobs: {pids:?}");
    for worker in workers {
        worker.terminate();
        assert!(worker.wait(Duration::from_secs(10)), "graceful exit");
    }
}
