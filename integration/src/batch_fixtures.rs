//! What the batch tests share: callback jobs that record their runs, a job
//! that dies on its first run and succeeds when retried, and a batch's
//! info as the operator sees it.

use jobqueue_core::JobOptions;
use jobqueue_core::admin::BatchInfo;
use jobqueue_testing::TestRedis;
use uuid::Uuid;

use crate::jobs::TestJob;
use crate::traces::{TestJobTraces, trace_counts};

/// A callback job recording its runs under `<prefix>:cb:<kind>`.
pub fn callback(env: &TestRedis, kind: &str) -> TestJob {
    TestJob::new(env.url(), &format!("{}:cb:{kind}", env.prefix()))
}

/// How many times the callback `kind` ran (starts, not distinct ids: a
/// callback enqueued twice would run twice).
pub async fn callback_runs(env: &TestRedis, kind: &str) -> u64 {
    trace_counts(env.url(), &format!("{}:cb:{kind}:started", env.prefix()))
        .await
        .values()
        .sum()
}

/// Batch `id` of `queue`, as the operator API shows it.
pub async fn batch_info(env: &TestRedis, queue: &str, id: Uuid) -> BatchInfo {
    env.client()
        .admin()
        .batch(queue, id)
        .await
        .expect("batch info")
}

/// A job dying on its first run (one attempt) and succeeding when retried.
pub fn dying(env: &TestRedis) -> (TestJob, JobOptions) {
    (
        TestJob {
            fail_first_runs: 1,
            ..env.test_job()
        },
        JobOptions {
            max_attempts: Some(1),
            ..JobOptions::default()
        },
    )
}
