//! [`ProbeJob`]: records when each run started, for tests of when jobs run
//! (cron ticks, expiry) rather than whether they succeed.

use std::time::Duration;

use jobqueue_core::{Job, JobContext, JobError};
use serde::{Deserialize, Serialize};

/// Appends `"<job id> <start ms> <attempt>"` to the list `key` each time it
/// starts; fails (retryably) while `fail` is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProbeJob {
    /// Redis to record into.
    pub url: String,
    /// The list to append to.
    pub key: String,
    /// Fail every attempt with this message.
    #[serde(default)]
    pub fail: Option<String>,
    /// Run this long after recording the start. When the job's token
    /// fires first, `"<id> <ms>"` is appended to `{key}:cancelled` and the
    /// job stops (unless `ignore_cancel`).
    #[serde(default)]
    pub hold_ms: u64,
    /// Keep running when cancelled.
    #[serde(default)]
    pub ignore_cancel: bool,
    /// Report this progress (percent, message) right after starting.
    #[serde(default)]
    pub progress: Option<(u8, String)>,
    /// Leave this result.
    #[serde(default)]
    pub result: Option<serde_json::Value>,
}

impl ProbeJob {
    /// A probe recording into `key`.
    pub fn new(url: &str, key: &str) -> Self {
        Self {
            url: url.to_owned(),
            key: key.to_owned(),
            ..Self::default()
        }
    }
}

impl Job for ProbeJob {
    const NAME: &'static str = "probe_job";
    const MAX_ATTEMPTS: u32 = 2;

    fn retry_delay(_retry: u32) -> Duration {
        Duration::from_millis(100)
    }

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let started_ms = chrono::Utc::now().timestamp_millis();
        let client = redis::Client::open(self.url.as_str()).map_err(JobError::retry)?;
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(JobError::retry)?;
        let _: i64 = redis::cmd("RPUSH")
            .arg(&self.key)
            .arg(format!("{} {started_ms} {}", ctx.id(), ctx.attempt()))
            .query_async(&mut conn)
            .await
            .map_err(JobError::retry)?;
        if let Some((percent, message)) = &self.progress {
            ctx.set_progress(*percent, message).await?;
        }
        if let Some(result) = &self.result {
            ctx.set_result(result)?;
        }
        if self.hold_ms > 0 {
            let hold = tokio::time::sleep(Duration::from_millis(self.hold_ms));
            if self.ignore_cancel {
                hold.await;
            } else {
                tokio::select! {
                    () = hold => {}
                    () = ctx.cancelled() => {
                        let at = chrono::Utc::now().timestamp_millis();
                        let _: i64 = redis::cmd("RPUSH")
                            .arg(format!("{}:cancelled", self.key))
                            .arg(format!("{} {at}", ctx.id()))
                            .query_async(&mut conn)
                            .await
                            .map_err(JobError::retry)?;
                        return Err(JobError::retry("cancelled"));
                    }
                }
            }
        }
        match &self.fail {
            Some(message) => Err(JobError::retry(message.clone())),
            None => Ok(()),
        }
    }
}

/// One recorded start: job id, start time (ms) and attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeStart {
    /// The job id.
    pub id: uuid::Uuid,
    /// When it started, ms since the epoch.
    pub started_ms: i64,
    /// Which attempt it was.
    pub attempt: u32,
}

/// Every start recorded in `key`, in order.
pub async fn probe_starts(url: &str, key: &str) -> Vec<ProbeStart> {
    let client = redis::Client::open(url).expect("valid url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to test Redis");
    let lines: Vec<String> = redis::cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .expect("LRANGE");
    lines
        .iter()
        .map(|line| {
            let mut parts = line.split(' ');
            ProbeStart {
                id: parts.next().and_then(|p| p.parse().ok()).expect("id"),
                started_ms: parts.next().and_then(|p| p.parse().ok()).expect("start"),
                attempt: parts.next().and_then(|p| p.parse().ok()).expect("attempt"),
            }
        })
        .collect()
}
