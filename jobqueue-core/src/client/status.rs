//! Job status: where a tracked job is, its progress and its result,
//! readable by id.
//!
//! A job is *tracked* when it is enqueued with [`crate::JobBuilder::track`]
//! or its type sets [`crate::Job::TRACK`]. A tracked job has a status from
//! the moment it is enqueued: `queued`, `scheduled` (delayed) or `waiting`
//! (for its parents), then `running` when a worker starts it, `retrying`
//! after a failed attempt, `queued` again when a shutdown handed it back or
//! its worker's lease lapsed and it was reclaimed (its progress kept, marked
//! [`Progress::stale`]), and finally `succeeded` (with its result), `dead`,
//! `cancelled` or `expired`. [`crate::Client::status`] returns `None` for an
//! id with no status: unknown, untracked, or past its TTL.
//!
//! A job that is not tracked but reports progress
//! ([`crate::JobContext::set_progress`]) or leaves a result
//! ([`crate::JobContext::set_result`]) gets a status from then on.
//!
//! The status lives in one hash per job, `P:{Q}:status:<id>` (in its
//! queue's slot, so the scripts that hand a job back or reclaim it write
//! it atomically with the move), and always with a TTL, refreshed at every
//! transition, so memory stays bounded:
//!
//! - while the job waits or runs: [`PENDING_STATUS_TTL`] (7 days) after
//!   its last transition (for a delayed job, after its run time), so a long
//!   backlog does not lose a queued job's status;
//! - once it ended (and for the progress of an untracked job): the
//!   worker's `status_ttl` (default [`DEFAULT_STATUS_TTL`], 5 minutes) —
//!   how long a result stays readable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::store::Store;
use crate::store::keys::QueueKeys;
use crate::wire::record::truncate_at_char_boundary;

/// How long a job's status is kept after it ended, by default (the
/// worker's `status_ttl`).
pub const DEFAULT_STATUS_TTL: Duration = Duration::from_secs(300);

/// How long a tracked job's status is kept after its last transition
/// while the job waits or runs (`PENDING_STATUS_TTL_MS` in
/// `lua/include/flow.lua` is the same).
pub const PENDING_STATUS_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

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
    /// Ready, waiting for a worker (also after a hand-back or a reclaim).
    Queued,
    /// Delayed: due at a later time.
    Scheduled,
    /// Waiting for its parents to end.
    Waiting,
    /// A worker is running it.
    Running,
    /// Finished successfully.
    Succeeded,
    /// An attempt failed; it will be retried.
    Retrying,
    /// Failed for good (in the dead set).
    Dead,
    /// Cancelled.
    Cancelled,
    /// Dropped: not started before its expiry.
    Expired,
    /// A durable job in a durable sleep (`JobContext::sleep`): written by
    /// `step_store.lua` when the sleep is stored; `running` again when it
    /// resumes.
    Sleeping,
    /// A durable job parked waiting for a signal
    /// (`JobContext::wait_for_signal`): written by `signal_wait.lua` when it
    /// parks; `running` again when it resumes.
    WaitingForSignal,
}

impl JobStatusState {
    const ALL: [JobStatusState; 11] = [
        JobStatusState::Queued,
        JobStatusState::Scheduled,
        JobStatusState::Waiting,
        JobStatusState::Running,
        JobStatusState::Succeeded,
        JobStatusState::Retrying,
        JobStatusState::Dead,
        JobStatusState::Cancelled,
        JobStatusState::Expired,
        JobStatusState::Sleeping,
        JobStatusState::WaitingForSignal,
    ];

    /// The state's name as stored and shown (`queued`, `running`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatusState::Queued => "queued",
            JobStatusState::Scheduled => "scheduled",
            JobStatusState::Waiting => "waiting",
            JobStatusState::Running => "running",
            JobStatusState::Succeeded => "succeeded",
            JobStatusState::Retrying => "retrying",
            JobStatusState::Dead => "dead",
            JobStatusState::Cancelled => "cancelled",
            JobStatusState::Expired => "expired",
            JobStatusState::Sleeping => "sleeping",
            JobStatusState::WaitingForSignal => "waiting_for_signal",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    /// True when the job will not run again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatusState::Succeeded
                | JobStatusState::Dead
                | JobStatusState::Cancelled
                | JobStatusState::Expired
        )
    }
}

/// A progress report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// 0-100.
    pub percent: u8,
    /// What the job is doing.
    pub message: String,
    /// True when the report is from an earlier run that was interrupted
    /// (handed back at shutdown, or lost with its worker), not from the
    /// current one.
    #[serde(default)]
    pub stale: bool,
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
    /// When the status was last written.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl JobStatus {
    fn from_fields(id: Uuid, mut fields: HashMap<String, String>) -> Option<Self> {
        let mut state = JobStatusState::parse(fields.get("state")?)?;
        let due = fields.get("due").and_then(|ms| ms.parse::<i64>().ok());
        if state == JobStatusState::Scheduled
            && due.is_some_and(|due| due <= Utc::now().timestamp_millis())
        {
            // Due: it waits for a worker like any ready job.
            state = JobStatusState::Queued;
        }
        let stale = fields.get("stale").is_some_and(|flag| flag == "1");
        let progress = fields
            .get("percent")
            .and_then(|p| p.parse().ok())
            .map(|percent| Progress {
                percent,
                message: fields.remove("message").unwrap_or_default(),
                stale,
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

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Writes job statuses; one per worker, shared by its jobs.
#[derive(Debug)]
pub struct StatusWriter {
    store: Store,
    ttl_ms: u64,
}

impl StatusWriter {
    /// A writer keeping each status `ttl` after the job ended (at most
    /// [`MAX_STATUS_TTL`]).
    pub fn new(store: Store, ttl: Duration) -> Self {
        let ttl = ttl.clamp(Duration::from_secs(1), MAX_STATUS_TTL);
        Self {
            store,
            ttl_ms: millis(ttl),
        }
    }

    async fn write(
        &self,
        queue: &QueueKeys,
        id: Uuid,
        fields: &[(&str, &str)],
        ttl_ms: u64,
    ) -> Result<(), Error> {
        let now = Utc::now().timestamp_millis().to_string();
        self.store
            .write_status(queue, &id.to_string(), &now, fields, ttl_ms)
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
    queue: Arc<QueueKeys>,
    id: Uuid,
    tracked: bool,
    used: AtomicBool,
    result: Mutex<Option<String>>,
    memo: crate::job::memo::Memo,
}

impl RunStatus {
    /// The status of a run of job `id` of `queue`; `tracked` when its
    /// envelope asks for a status whatever the job reports.
    pub fn new(writer: Arc<StatusWriter>, queue: Arc<QueueKeys>, id: Uuid, tracked: bool) -> Self {
        Self {
            inner: Arc::new(RunStatusInner {
                writer,
                queue,
                id,
                tracked,
                used: AtomicBool::new(false),
                result: Mutex::new(None),
                memo: crate::job::memo::Memo::default(),
            }),
        }
    }

    /// The run's memo of steps, sleeps and signals (`job::steps`).
    pub(crate) fn memo(&self) -> &crate::job::memo::Memo {
        &self.inner.memo
    }

    /// Where the memo lives: the store, the job's queue and id.
    pub(crate) fn memo_home(&self) -> (&Store, &QueueKeys, Uuid) {
        (&self.inner.writer.store, &self.inner.queue, self.inner.id)
    }

    /// True when the run used its memo (a step, a sleep or a signal): its
    /// success is acknowledged with `ack_steps.lua`, which deletes the memo.
    pub fn used_memo(&self) -> bool {
        self.inner.memo.used()
    }

    /// True when the run ended parked, waiting for a signal: the script
    /// that parked it already moved it out of the worker's active hash,
    /// so its end is not recorded again.
    pub fn parked(&self) -> bool {
        self.inner.memo.parked()
    }

    /// The TTL of a write while the job runs: the pending TTL for a
    /// tracked job, the worker's `status_ttl` for an untracked one.
    fn running_ttl_ms(&self) -> u64 {
        if self.inner.tracked {
            millis(PENDING_STATUS_TTL)
        } else {
            self.inner.writer.ttl_ms
        }
    }

    /// Marks a tracked job `running` as its run starts (nothing for an
    /// untracked job). Progress of an earlier run stays, still stale,
    /// until the job reports its own.
    pub async fn started(&self) -> Result<(), Error> {
        let inner = &self.inner;
        if !inner.tracked {
            return Ok(());
        }
        inner
            .writer
            .write(
                &inner.queue,
                inner.id,
                &[("state", "running")],
                self.running_ttl_ms(),
            )
            .await
    }

    pub(crate) async fn set_progress(&self, percent: u8, message: &str) -> Result<(), Error> {
        self.inner.used.store(true, Ordering::Relaxed);
        let percent = percent.min(100).to_string();
        let message = truncate_at_char_boundary(message, MAX_PROGRESS_MESSAGE_BYTES);
        self.inner
            .writer
            .write(
                &self.inner.queue,
                self.inner.id,
                &[
                    ("state", "running"),
                    ("percent", &percent),
                    ("message", message),
                    ("stale", "0"),
                ],
                self.running_ttl_ms(),
            )
            .await?;
        let written = self
            .inner
            .writer
            .store
            .emit_events(
                &self.inner.queue,
                "progress",
                &[self.inner.id.to_string()],
                &[("percent", &percent), ("message", message)],
            )
            .await;
        if let Err(err) = written {
            tracing::warn!(error = %err, "could not write a progress event");
        }
        Ok(())
    }

    pub(crate) fn set_result(&self, json: String) -> Result<(), Error> {
        if json.len() > MAX_RESULT_BYTES {
            return Err(Error::ResultTooLarge {
                op: "set_result",
                size: json.len(),
                limit: MAX_RESULT_BYTES,
            });
        }
        self.inner.used.store(true, Ordering::Relaxed);
        if let Ok(mut slot) = self.inner.result.lock() {
            *slot = Some(json);
        }
        Ok(())
    }

    /// The result the job left so far (JSON), if any: the worker hands it
    /// to the script that records a success for the job's dependents.
    pub fn result_json(&self) -> Option<String> {
        self.inner.result.lock().ok().and_then(|slot| slot.clone())
    }

    /// The store the status is written to (the job reads its parents'
    /// results through it).
    pub(crate) fn store(&self) -> &Store {
        &self.inner.writer.store
    }

    /// True when the run's end must be written (the job reported progress,
    /// left a result, or is tracked).
    pub fn needs_final_write(&self) -> bool {
        self.inner.tracked || self.inner.used.load(Ordering::Relaxed)
    }

    /// Writes the status the run ended in, if the job used its status or
    /// is tracked; the result is kept only when it succeeded. A final
    /// state is kept the worker's `status_ttl`; `retrying` (the job runs
    /// again) as long as a running job's status.
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
        let ttl_ms = if state.is_final() {
            inner.writer.ttl_ms
        } else {
            self.running_ttl_ms()
        };
        inner
            .writer
            .write(&inner.queue, inner.id, &fields, ttl_ms)
            .await
    }
}

impl Store {
    /// The status of job `id`, looked up in every registered queue;
    /// `None` when it has none (unknown id, not tracked, or past its TTL).
    pub async fn job_status(&self, id: Uuid) -> Result<Option<JobStatus>, Error> {
        Ok(self
            .find_status_fields(&id.to_string())
            .await?
            .and_then(|(_, fields)| JobStatus::from_fields(id, fields)))
    }

    /// The status of job `id` of `queue` (one lookup); `None` when it has none.
    pub async fn job_status_in(&self, queue: &str, id: Uuid) -> Result<Option<JobStatus>, Error> {
        let keys = self.keys().queue(queue)?;
        let fields = self.status_fields(&keys, &id.to_string()).await?;
        Ok(JobStatus::from_fields(id, fields))
    }
}

impl crate::Client {
    /// The status of job `id`: its state, latest progress, result and
    /// error; `None` when it has none — an unknown id, a job that is not
    /// tracked (and reported nothing), or a status past its TTL (see the
    /// module docs). A tracked job has one from the moment it is enqueued.
    pub async fn status(&self, id: Uuid) -> Result<Option<JobStatus>, Error> {
        self.store().job_status(id).await
    }

    /// The status of job `id`, looked up in its queue once `queue` is
    /// known (found on the first call that finds it).
    async fn status_polled(
        &self,
        queue: &mut Option<String>,
        id: Uuid,
    ) -> Result<Option<JobStatus>, Error> {
        if let Some(name) = queue.as_deref() {
            return self.store().job_status_in(name, id).await;
        }
        let Some((name, fields)) = self.store().find_status_fields(&id.to_string()).await? else {
            return Ok(None);
        };
        *queue = Some(name);
        Ok(JobStatus::from_fields(id, fields))
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
        let mut queue: Option<String> = None;
        loop {
            if let Some(status) = self.status_polled(&mut queue, id).await? {
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
