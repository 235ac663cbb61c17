//! Job status: progress reports and results, readable by id.
//!
//! A job reports progress with [`crate::JobContext::set_progress`] and
//! leaves a result with [`crate::JobContext::set_result`]; producers read
//! them with [`crate::Client::status`] and [`crate::Client::wait_result`].
//! The status lives in one hash per job, `P:status:<id>`, written only for
//! jobs that use it (or were enqueued with [`crate::JobBuilder::track`]),
//! and always with a TTL (default [`DEFAULT_STATUS_TTL`]), so memory stays
//! bounded: at most one small hash per tracked job of the last TTL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::store::Store;
use crate::wire::record::truncate_at_char_boundary;

/// How long a job's status is kept after its last update, by default.
pub const DEFAULT_STATUS_TTL: Duration = Duration::from_secs(300);

/// Longest status TTL accepted.
pub const MAX_STATUS_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Largest result kept, in bytes of JSON.
pub const MAX_RESULT_BYTES: usize = 64 * 1024;

/// Longest progress message kept, in bytes.
pub const MAX_PROGRESS_MESSAGE_BYTES: usize = 512;

/// Where a tracked job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatusState {
    /// Running (it reported progress).
    Running,
    /// Finished successfully.
    Succeeded,
    /// An attempt failed; it will be retried.
    Retrying,
    /// Failed for good (in the dead set).
    Dead,
    /// Cancelled while running.
    Cancelled,
    /// Dropped: not started before its expiry.
    Expired,
}

impl JobStatusState {
    fn as_str(self) -> &'static str {
        match self {
            JobStatusState::Running => "running",
            JobStatusState::Succeeded => "succeeded",
            JobStatusState::Retrying => "retrying",
            JobStatusState::Dead => "dead",
            JobStatusState::Cancelled => "cancelled",
            JobStatusState::Expired => "expired",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            JobStatusState::Running,
            JobStatusState::Succeeded,
            JobStatusState::Retrying,
            JobStatusState::Dead,
            JobStatusState::Cancelled,
            JobStatusState::Expired,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }

    /// True when the job will not run again.
    pub fn is_final(self) -> bool {
        !matches!(self, JobStatusState::Running | JobStatusState::Retrying)
    }
}

/// A progress report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// 0-100.
    pub percent: u8,
    /// What the job is doing.
    pub message: String,
}

/// A job's status as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobStatus {
    /// The job id.
    pub id: Uuid,
    /// Where it is.
    pub state: JobStatusState,
    /// Its latest progress report.
    pub progress: Option<Progress>,
    /// Its result (set when it succeeded and left one).
    pub result: Option<serde_json::Value>,
    /// The error of the latest failure.
    pub error: Option<String>,
    /// When the status was last written (worker clock).
    pub updated_at: Option<DateTime<Utc>>,
}

impl JobStatus {
    fn from_fields(id: Uuid, mut fields: HashMap<String, String>) -> Option<Self> {
        let state = JobStatusState::parse(fields.get("state")?)?;
        let progress = fields
            .get("percent")
            .and_then(|p| p.parse().ok())
            .map(|percent| Progress {
                percent,
                message: fields.remove("message").unwrap_or_default(),
            });
        Some(Self {
            id,
            state,
            progress,
            result: fields
                .get("result")
                .and_then(|json| serde_json::from_str(json).ok()),
            error: fields.remove("error"),
            updated_at: fields
                .get("updated_at")
                .and_then(|ms| ms.parse().ok())
                .and_then(DateTime::from_timestamp_millis),
        })
    }
}

/// Writes job statuses; one per worker, shared by its jobs.
#[derive(Debug)]
pub struct StatusWriter {
    store: Store,
    ttl_ms: u64,
}

impl StatusWriter {
    /// A writer keeping each status `ttl` after its last update (at most
    /// [`MAX_STATUS_TTL`]).
    pub fn new(store: Store, ttl: Duration) -> Self {
        let ttl = ttl.clamp(Duration::from_secs(1), MAX_STATUS_TTL);
        Self {
            store,
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
        }
    }

    async fn write(&self, id: Uuid, fields: &[(&str, &str)]) -> Result<(), Error> {
        let now = Utc::now().timestamp_millis().to_string();
        self.store
            .write_status(&id.to_string(), &now, fields, self.ttl_ms)
            .await
    }
}

/// One run's status: what the job reported, and whether anything must be
/// written when it ends. Built by the worker runtime for each run.
#[derive(Debug, Clone)]
pub struct RunStatus {
    inner: Arc<RunStatusInner>,
}

#[derive(Debug)]
struct RunStatusInner {
    writer: Arc<StatusWriter>,
    id: Uuid,
    tracked: bool,
    used: AtomicBool,
    result: Mutex<Option<String>>,
}

impl RunStatus {
    /// The status of run of job `id`; `tracked` when its envelope asks for
    /// a final status whatever the job reports.
    pub fn new(writer: Arc<StatusWriter>, id: Uuid, tracked: bool) -> Self {
        Self {
            inner: Arc::new(RunStatusInner {
                writer,
                id,
                tracked,
                used: AtomicBool::new(false),
                result: Mutex::new(None),
            }),
        }
    }

    pub(crate) async fn set_progress(&self, percent: u8, message: &str) -> Result<(), Error> {
        self.inner.used.store(true, Ordering::Relaxed);
        let percent = percent.min(100).to_string();
        let message = truncate_at_char_boundary(message, MAX_PROGRESS_MESSAGE_BYTES);
        self.inner
            .writer
            .write(
                self.inner.id,
                &[
                    ("state", "running"),
                    ("percent", &percent),
                    ("message", message),
                ],
            )
            .await
    }

    pub(crate) fn set_result(&self, json: String) -> Result<(), Error> {
        if json.len() > MAX_RESULT_BYTES {
            return Err(Error::invalid(
                "set_result",
                format!(
                    "result is {} bytes of JSON, above the limit of {MAX_RESULT_BYTES}",
                    json.len()
                ),
            ));
        }
        self.inner.used.store(true, Ordering::Relaxed);
        if let Ok(mut slot) = self.inner.result.lock() {
            *slot = Some(json);
        }
        Ok(())
    }

    /// True when the run's end must be written (the job reported progress,
    /// left a result, or was enqueued tracked).
    pub fn needs_final_write(&self) -> bool {
        self.inner.tracked || self.inner.used.load(Ordering::Relaxed)
    }

    /// Writes the final status of the run, if the job used its status or
    /// was enqueued tracked; the result is kept only when it succeeded.
    pub async fn finish(&self, state: JobStatusState, error: Option<&str>) -> Result<(), Error> {
        let inner = &self.inner;
        if !self.needs_final_write() {
            return Ok(());
        }
        let result = match state {
            JobStatusState::Succeeded => inner.result.lock().ok().and_then(|mut r| r.take()),
            _ => None,
        };
        let mut fields: Vec<(&str, &str)> = vec![("state", state.as_str())];
        if let Some(result) = &result {
            fields.push(("result", result));
        }
        if let Some(error) = error {
            fields.push(("error", error));
        }
        inner.writer.write(inner.id, &fields).await
    }
}

impl Store {
    /// The status of job `id`; `None` when it has none (not tracked, not
    /// reported, or past its TTL).
    pub async fn job_status(&self, id: Uuid) -> Result<Option<JobStatus>, Error> {
        let fields = self.status_fields(&id.to_string()).await?;
        Ok(JobStatus::from_fields(id, fields))
    }
}

impl crate::Client {
    /// The status of job `id`: its state, latest progress, result and
    /// error; `None` when it has none (see the module docs).
    pub async fn status(&self, id: Uuid) -> Result<Option<JobStatus>, Error> {
        self.store().job_status(id).await
    }

    /// Waits until job `id` finished and returns its result (`None` when
    /// it succeeded without leaving one). Fails with
    /// [`Error::JobNotSucceeded`] when it died, was cancelled or expired,
    /// and with [`Error::WaitTimeout`] after `timeout`. The job must leave
    /// a status: enqueue it with [`crate::JobBuilder::track`], or have it
    /// call [`crate::JobContext::set_result`].
    pub async fn wait_result<T: serde::de::DeserializeOwned>(
        &self,
        id: Uuid,
        timeout: Duration,
    ) -> Result<Option<T>, Error> {
        const OP: &str = "wait_result";
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = Duration::from_millis(5);
        loop {
            if let Some(status) = self.status(id).await? {
                match status.state {
                    JobStatusState::Succeeded => {
                        return status
                            .result
                            .map(|value| {
                                serde_json::from_value(value).map_err(|e| Error::Decode {
                                    op: OP,
                                    message: format!("result of job {id}: {e}"),
                                })
                            })
                            .transpose();
                    }
                    state if state.is_final() => {
                        return Err(Error::JobNotSucceeded {
                            op: OP,
                            id,
                            state: state.as_str(),
                            error: status.error,
                        });
                    }
                    _ => {}
                }
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::WaitTimeout { op: OP, id });
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}
