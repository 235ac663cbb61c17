//! Per-job logs in tests: the capture layer in the test process's
//! subscriber, a job that logs numbered lines, and whether a job's logs
//! key exists.

use std::sync::Once;
use std::time::Duration;

use jobqueue_core::{Job, JobContext, JobError};
use jobqueue_testing::TestRedis;
use jobqueue_worker::JobLogLayer;
use serde::{Deserialize, Serialize};
use tracing_subscriber::prelude::*;
use uuid::Uuid;

/// Logs `lines` numbered lines, each `<text> attempt <n>` with fields
/// `line` and `pid` (the worker process's), pausing 1 ms after each so
/// the runs of one process interleave; then fails (retryably) while its
/// attempt is at most `fail_attempts`. Two attempts at most, 100 ms apart:
/// a job with `fail_attempts` ≥ 2 goes dead with one log per attempt.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogLinesJob {
    /// Lines per attempt.
    pub lines: u32,
    /// What each line says before `attempt <n>`.
    pub text: String,
    /// Attempts that fail.
    pub fail_attempts: u32,
}

impl Job for LogLinesJob {
    const NAME: &'static str = "log_lines";
    const MAX_ATTEMPTS: u32 = 2;

    fn retry_delay(_retry: u32) -> Duration {
        Duration::from_millis(100)
    }

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let pid = std::process::id();
        for line in 0..self.lines {
            tracing::info!(line, pid, "{} attempt {}", self.text, ctx.attempt());
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if ctx.attempt() <= self.fail_attempts {
            return Err(JobError::retry("failed on purpose"));
        }
        Ok(())
    }
}

/// Installs the process's subscriber once: [`JobLogLayer`], nothing
/// filtered (a global filter would drop events before the capture sees
/// them). Call it before the first test Redis ([`crate::test_redis`]
/// installs a plain subscriber otherwise).
pub fn install_job_log_layer() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(JobLogLayer::new()),
        );
    });
}

/// A fresh prefix labelled `label`, with the capture layer installed.
pub async fn test_redis_with_job_logs(label: &str) -> TestRedis {
    install_job_log_layer();
    crate::test_redis(label).await
}

/// Whether job `id` of `queue` has a logs key (`P:{Q}:logs:<id>`).
pub async fn logs_key_exists(env: &TestRedis, queue: &str, id: Uuid) -> bool {
    let key = env
        .client()
        .store()
        .queue_keys(queue)
        .expect("valid queue")
        .logs(&id.to_string());
    let mut conn = env.connection().await.expect("connect to the test Redis");
    redis::cmd("EXISTS")
        .arg(key)
        .query_async::<u64>(&mut conn)
        .await
        .expect("EXISTS")
        == 1
}
