//! [`DurableJob`]: a job made of memoised steps, with an optional durable
//! sleep and an optional wait for a signal, that leaves a trace in Redis of
//! every closure run, so tests can count re-runs across kills and retries.
//!
//! Traces (all under `key`, which tests put under their prefix):
//! * `{key}:step:<n>` hash: job id → runs of step n's closure
//! * `{key}:woke` hash: job id → wall-clock ms the step after the sleep ran
//! * `{key}:signal` hash: job id → `R:<payload>` or `T` (timed out)
//! * `{key}:done` hash: job id → runs finished successfully
//! * `{key}:runs` hash: job id → runs started

use std::time::Duration;

use jobqueue_core::{Job, JobContext, JobError, Signal};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

/// A job of `steps` memoised steps (each sleeps `step_ms` inside its
/// closure before returning `n * 10`), a durable sleep of `sleep_ms` after
/// the first step, and a wait for signal `signal` up to `signal_timeout_ms`
/// after the steps.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DurableJob {
    /// Redis to record into.
    pub url: String,
    /// Key stem of the traces.
    pub key: String,
    /// Number of steps.
    pub steps: u32,
    /// Time each step's closure takes.
    #[serde(default)]
    pub step_ms: u64,
    /// Durable sleep after step 1.
    #[serde(default)]
    pub sleep_ms: Option<u64>,
    /// Signal to wait for after the steps.
    #[serde(default)]
    pub signal: Option<String>,
    /// How long to wait for it.
    #[serde(default)]
    pub signal_timeout_ms: u64,
    /// Fail (retryably) the first run after step 1.
    #[serde(default)]
    pub fail_once_after_step: Option<u32>,
}

impl DurableJob {
    /// A job of `steps` steps recording under `key`.
    pub fn new(url: &str, key: &str, steps: u32) -> Self {
        Self {
            url: url.to_owned(),
            key: key.to_owned(),
            steps,
            ..Self::default()
        }
    }

    async fn record(&self, trace: &str, id: &str) -> Result<i64, JobError> {
        let client = redis::Client::open(self.url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        Ok(conn.hincr(format!("{}:{trace}", self.key), id, 1).await?)
    }

    async fn set(&self, trace: &str, id: &str, value: String) -> Result<(), JobError> {
        let client = redis::Client::open(self.url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let () = conn
            .hset(format!("{}:{trace}", self.key), id, value)
            .await?;
        Ok(())
    }
}

impl Job for DurableJob {
    const NAME: &'static str = "durable_job";
    const MAX_ATTEMPTS: u32 = 5;

    fn retry_delay(_retry: u32) -> Duration {
        Duration::from_millis(50)
    }

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let id = ctx.id().to_string();
        let runs = self.record("runs", &id).await?;
        for n in 1..=self.steps {
            let out: u32 = ctx
                .step(&format!("s{n}"), || async {
                    self.record(&format!("step:{n}"), &id).await?;
                    tokio::time::sleep(Duration::from_millis(self.step_ms)).await;
                    Ok(n * 10)
                })
                .await?;
            assert_eq!(out, n * 10, "a stored step returns its output");
            if n == 1
                && let Some(ms) = self.sleep_ms
            {
                ctx.sleep("nap", Duration::from_millis(ms)).await?;
                let now = chrono::Utc::now().timestamp_millis();
                self.set("woke", &id, now.to_string()).await?;
            }
            if self.fail_once_after_step == Some(n) && runs == 1 {
                return Err(JobError::retry("planned failure after a step"));
            }
        }
        if let Some(name) = &self.signal {
            let timeout = Duration::from_millis(self.signal_timeout_ms);
            let got = match ctx
                .wait_for_signal::<serde_json::Value>(name, timeout)
                .await?
            {
                Signal::Received(payload) => format!("R:{payload}"),
                Signal::TimedOut => "T".to_owned(),
            };
            self.set("signal", &id, got).await?;
        }
        self.record("done", &id).await?;
        Ok(())
    }
}
