//! Test jobs: [`TestJob`] leaves a trace in Redis every time it runs
//! (read with [`crate::traces`]); [`NoopJob`], [`OutcomeJob`] and
//! [`FailingJob`] only succeed or fail.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use jobqueue_core::{Job, JobContext, JobError};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

/// A configurable job: records its start and finish in Redis under `key`,
/// and can sleep, fail a number of times, fail permanently or panic.
///
/// Traces (all under `key`, which tests put under their prefix):
/// * `{key}:started` hash: job id → runs started
/// * `{key}:done` hash: job id → runs finished successfully
/// * `{key}:lateness` list: start time − `due_ms`, in ms (when `due_ms` is set)
/// * `{key}:attempts` list: `"<id>:<attempt>"` per start
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TestJob {
    /// Redis to record into.
    pub url: String,
    /// Key stem of the traces.
    pub key: String,
    /// Sleep this long before finishing.
    #[serde(default)]
    pub sleep_ms: u64,
    /// Fail (retryably) on the first N attempts.
    #[serde(default)]
    pub fail_times: u32,
    /// Panic instead of running.
    #[serde(default)]
    pub panic: bool,
    /// Fail permanently.
    #[serde(default)]
    pub permanent: bool,
    /// Fail (retryably) on the first N runs, counted across operator
    /// retries (which start the attempt count over).
    #[serde(default)]
    pub fail_first_runs: u64,
    /// Snooze this long on the first run.
    #[serde(default)]
    pub snooze_ms: Option<u64>,
    /// Keep sleeping even when cancelled.
    #[serde(default)]
    pub ignore_cancel: bool,
    /// Block the thread this long (`std::thread::sleep`, as a handler
    /// doing blocking or CPU-bound work without `spawn_blocking` would)
    /// after recording the start.
    #[serde(default)]
    pub block_ms: u64,
    /// When the job was due (ms since epoch), to record lateness.
    #[serde(default)]
    pub due_ms: Option<i64>,
    /// Free-form tag.
    #[serde(default)]
    pub tag: u64,
}

impl TestJob {
    /// A job that just records that it ran.
    pub fn new(url: &str, key: &str) -> Self {
        Self {
            url: url.to_owned(),
            key: key.to_owned(),
            ..Self::default()
        }
    }
}

impl Job for TestJob {
    const NAME: &'static str = "test_job";
    const MAX_ATTEMPTS: u32 = 5;

    fn retry_delay(_retry: u32) -> Duration {
        Duration::from_millis(50)
    }

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let started_ms = chrono::Utc::now().timestamp_millis();
        // A job that blocks its thread may wait for its replies as long as
        // a neighbour blocks the other runtime thread: its connection waits
        // for them rather than failing after the usual 500 ms.
        let mut conn = connection(&self.url, self.block_ms > 0).await?;
        let id = ctx.id().to_string();
        let mut pipe = redis::pipe();
        pipe.hincr(format!("{}:started", self.key), &id, 1)
            .rpush(
                format!("{}:attempts", self.key),
                format!("{id}:{}", ctx.attempt()),
            )
            .ignore();
        if let Some(due) = self.due_ms {
            pipe.rpush(format!("{}:lateness", self.key), started_ms - due)
                .ignore();
        }
        let (runs,): (u64,) = match pipe.query_async(&mut conn).await {
            Ok(reply) => reply,
            Err(err) => {
                forget_connection(&self.url);
                return Err(err.into());
            }
        };

        if let Some(ms) = self.snooze_ms
            && runs == 1
        {
            return Err(JobError::snooze(Duration::from_millis(ms)));
        }
        if self.panic {
            panic!("test job {id} panics on purpose");
        }
        if self.permanent {
            return Err(JobError::permanent("this job can never succeed"));
        }
        if runs <= self.fail_first_runs {
            return Err(JobError::retry(format!("planned failure on run {runs}")));
        }
        if ctx.attempt() <= self.fail_times {
            return Err(JobError::retry(format!(
                "planned failure on attempt {}",
                ctx.attempt()
            )));
        }
        if self.block_ms > 0 {
            std::thread::sleep(Duration::from_millis(self.block_ms));
        }
        if self.sleep_ms > 0 {
            let sleep = tokio::time::sleep(Duration::from_millis(self.sleep_ms));
            if self.ignore_cancel {
                sleep.await;
            } else {
                tokio::select! {
                    () = sleep => {}
                    () = ctx.cancelled() => return Err(JobError::retry("cancelled")),
                }
            }
        }
        let recorded: redis::RedisResult<i64> =
            conn.hincr(format!("{}:done", self.key), &id, 1).await;
        if let Err(err) = recorded {
            forget_connection(&self.url);
            return Err(err.into());
        }
        Ok(())
    }
}

/// A job that does nothing (throughput and shape tests).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoopJob {
    /// Anything.
    pub n: u64,
}

impl Job for NoopJob {
    const NAME: &'static str = "noop";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

/// A job on queue `mail` that does nothing: the autoscaling tests, which
/// model its run time themselves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailJob {
    /// Anything.
    pub n: u64,
}

impl Job for MailJob {
    const NAME: &'static str = "mail_job";
    const QUEUE: &'static str = "mail";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

/// A job with no I/O that succeeds, or fails permanently when
/// `permanent_failure` is set: for volume runs where tracing every job in
/// Redis would itself be the memory being measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutcomeJob {
    /// Anything.
    pub n: u64,
    /// Fail permanently (straight to the dead set).
    pub permanent_failure: bool,
}

impl Job for OutcomeJob {
    const NAME: &'static str = "outcome";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        if self.permanent_failure {
            return Err(JobError::permanent(format!(
                "outcome job {} fails on purpose",
                self.n
            )));
        }
        Ok(())
    }
}

/// A job that always fails permanently with `message` (dead on its first
/// run): for tests of how dead jobs and hostile error text are shown.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FailingJob {
    /// The error message it dies with.
    pub message: String,
    /// Free text carried in the payload.
    #[serde(default)]
    pub note: String,
}

impl Job for FailingJob {
    const NAME: &'static str = "failing_job";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Err(JobError::permanent(&self.message))
    }
}

thread_local! {
    static CONNECTIONS: RefCell<HashMap<String, redis::aio::MultiplexedConnection>> =
        RefCell::new(HashMap::new());
}

/// Connections per URL, cached per thread: a connection belongs to the
/// tokio runtime that created it, and each test has its own runtime.
/// `patient` ones wait up to 30 s to connect and for each reply (redis-rs's
/// defaults: 1 s and 500 ms).
async fn connection(
    url: &str,
    patient: bool,
) -> Result<redis::aio::MultiplexedConnection, JobError> {
    let key = connection_key(url, patient);
    if let Some(conn) = CONNECTIONS.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(conn);
    }
    let client = redis::Client::open(url)?;
    let conn = if patient {
        let wait = Some(Duration::from_secs(30));
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(wait)
            .set_response_timeout(wait);
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await?
    } else {
        client.get_multiplexed_async_connection().await?
    };
    CONNECTIONS.with(|c| c.borrow_mut().insert(key, conn.clone()));
    Ok(conn)
}

/// The cache key of [`connection`]'s connections.
fn connection_key(url: &str, patient: bool) -> String {
    if patient {
        format!("patient {url}")
    } else {
        url.to_owned()
    }
}

/// Drops this thread's cached connection after an error (the server may
/// have restarted), so the next run reconnects.
fn forget_connection(url: &str) {
    CONNECTIONS.with(|c| {
        let mut cached = c.borrow_mut();
        cached.remove(&connection_key(url, false));
        cached.remove(&connection_key(url, true));
    });
}
