//! [`JobContext`]: what a running job knows about itself, and the
//! application state a [`crate::StatefulJob`] receives.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::client::status::{MAX_RESULT_BYTES, RunStatus};
use crate::error::Error;
use crate::job::dependencies::ParentRef;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Handed to [`crate::Job::perform`]: the job's identity, which attempt this
/// is, and a cancellation token.
///
/// The token fires when the run's timeout expires or when the worker's
/// shutdown grace period runs out; long jobs should check it (or
/// `select!` on [`JobContext::cancelled`]) to stop early and cleanly.
///
/// `S` is the application state the worker was given
/// (`WorkerBuilder::state`), read with [`JobContext::state`]; a plain
/// [`crate::Job`] gets `JobContext<()>`.
pub struct JobContext<S = ()> {
    id: Uuid,
    job_type: Arc<str>,
    queue: Arc<str>,
    attempt: u32,
    max_attempts: u32,
    enqueued_at_ms: i64,
    worker_id: Arc<str>,
    cancel: CancellationToken,
    span: tracing::Span,
    status: Option<RunStatus>,
    traceparent: Option<Arc<str>>,
    /// The parents the job waited for (`None` for a job without any, so
    /// plain jobs allocate nothing).
    parents: Option<Arc<[ParentRef]>>,
    batch: Option<Uuid>,
    state: Arc<S>,
}

impl<S> std::fmt::Debug for JobContext<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext")
            .field("id", &self.id)
            .field("job_type", &self.job_type)
            .field("queue", &self.queue)
            .field("attempt", &self.attempt)
            .field("max_attempts", &self.max_attempts)
            .field("worker_id", &self.worker_id)
            .field("state", &std::any::type_name::<S>())
            .finish_non_exhaustive()
    }
}

impl<S> Clone for JobContext<S> {
    fn clone(&self) -> Self {
        self.map_state(self.state.clone())
    }
}

/// The state of a context without state: one shared `Arc<()>`, so
/// building a context allocates nothing for it.
pub fn no_state() -> Arc<()> {
    static UNIT: OnceLock<Arc<()>> = OnceLock::new();
    UNIT.get_or_init(|| Arc::new(())).clone()
}

/// Everything needed to build a [`JobContext`]; used by worker runtimes
/// and by test helpers that run jobs inline.
#[derive(Debug, Clone)]
pub struct JobContextParts {
    /// The job id.
    pub id: Uuid,
    /// The job type name.
    pub job_type: Arc<str>,
    /// The queue the job was fetched from.
    pub queue: Arc<str>,
    /// This run's attempt number (1 = first run).
    pub attempt: u32,
    /// Most attempts before the job is dead.
    pub max_attempts: u32,
    /// When the job was enqueued, ms since the epoch.
    pub enqueued_at_ms: i64,
    /// Identity of the worker process running the job.
    pub worker_id: Arc<str>,
    /// Fires on timeout or shutdown.
    pub cancel: CancellationToken,
    /// The span the job runs in.
    pub span: tracing::Span,
    /// Where progress and the result go (`None`: reports are ignored).
    pub status: Option<RunStatus>,
    /// The producer's W3C `traceparent`, if it sent one.
    pub traceparent: Option<Arc<str>>,
    /// The parents the job waited for (its envelope's `after`; empty for
    /// most jobs), whose results [`JobContext::parent_result`] reads.
    pub parents: Vec<ParentRef>,
    /// The batch the job belongs to, if any.
    pub batch: Option<Uuid>,
}

impl JobContext {
    /// Builds a context without state from its parts.
    pub fn new(parts: JobContextParts) -> Self {
        Self::with_state(parts, no_state())
    }
}

impl<S> JobContext<S> {
    /// Builds a context from its parts and the state a
    /// [`crate::StatefulJob`] receives.
    pub fn with_state(parts: JobContextParts, state: Arc<S>) -> Self {
        let JobContextParts {
            id,
            job_type,
            queue,
            attempt,
            max_attempts,
            enqueued_at_ms,
            worker_id,
            cancel,
            span,
            status,
            traceparent,
            parents,
            batch,
        } = parts;
        Self {
            id,
            job_type,
            queue,
            attempt,
            max_attempts,
            enqueued_at_ms,
            worker_id,
            cancel,
            span,
            status,
            traceparent,
            parents: (!parents.is_empty()).then(|| Arc::from(parents)),
            batch,
            state,
        }
    }

    /// The application state the worker was given (`WorkerBuilder::state`).
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The state as a shared handle, to move into a task the job spawns.
    pub fn state_arc(&self) -> Arc<S> {
        self.state.clone()
    }

    /// This context with another state (the rest shared).
    pub fn map_state<T>(&self, state: Arc<T>) -> JobContext<T> {
        JobContext {
            id: self.id,
            job_type: self.job_type.clone(),
            queue: self.queue.clone(),
            attempt: self.attempt,
            max_attempts: self.max_attempts,
            enqueued_at_ms: self.enqueued_at_ms,
            worker_id: self.worker_id.clone(),
            cancel: self.cancel.clone(),
            span: self.span.clone(),
            status: self.status.clone(),
            traceparent: self.traceparent.clone(),
            parents: self.parents.clone(),
            batch: self.batch,
            state,
        }
    }

    /// The batch this job belongs to, if any: its id, on the job's queue.
    /// A running job may add jobs to its own batch (an open batch) with
    /// [`Client::batch_ref`](crate::Client::batch_ref)`(ctx.queue(), id)`;
    /// the batch cannot complete while this job runs.
    pub fn batch(&self) -> Option<Uuid> {
        self.batch
    }

    /// The producer's W3C `traceparent` (its trace id and span id), when
    /// the job was enqueued inside a trace: pass it on to calls the job
    /// makes so they join the same trace.
    pub fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    /// The job id (a UUID v7).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The job type name.
    pub fn job_type(&self) -> &str {
        &self.job_type
    }

    /// The queue the job came from.
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// Which attempt this run is: 1 for the first run, 2 for the first retry, …
    ///
    /// An attempt above 1 without an earlier error means an earlier run was
    /// lost with its worker: make handlers idempotent.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Most attempts before the job is dead.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// True when this is the last attempt the job gets.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }

    /// When the job was first enqueued.
    pub fn enqueued_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.enqueued_at_ms).unwrap_or_default()
    }

    /// Identity of the worker process running the job.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// The token that fires on timeout or shutdown.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// True once the run was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the run is asked to stop.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// Reports progress (0-100 and a short message), readable at once with
    /// [`crate::Client::status`].
    ///
    /// ```no_run
    /// # use jobqueue_core::{JobContext, JobError};
    /// # async fn perform(ctx: &JobContext, rows: Vec<u32>) -> Result<(), JobError> {
    /// for (done, _row) in rows.iter().enumerate() {
    ///     let percent = (done * 100 / rows.len()) as u8;
    ///     ctx.set_progress(percent, format!("row {done} of {}", rows.len())).await?;
    /// }
    /// ctx.set_result(&serde_json::json!({ "rows": rows.len() }))?;
    /// # Ok(()) }
    /// ```
    pub async fn set_progress(&self, percent: u8, message: impl AsRef<str>) -> Result<(), Error> {
        match &self.status {
            Some(status) => status.set_progress(percent, message.as_ref()).await,
            None => Ok(()),
        }
    }

    /// Leaves a result, stored when the run succeeds and readable with
    /// [`crate::Client::wait_result`]; a job enqueued with dependents also
    /// hands it to them ([`JobContext::parent_result`]), kept as long as
    /// its dependency record (30 days after its end). A later call
    /// replaces it. Fails with [`Error::ResultTooLarge`] above
    /// [`MAX_RESULT_BYTES`] of JSON.
    pub fn set_result<T: Serialize + ?Sized>(&self, result: &T) -> Result<(), Error> {
        let json = serde_json::to_string(result).map_err(|source| Error::Encode {
            op: "set_result",
            job_type: self.job_type.to_string(),
            source,
        })?;
        if json.len() > MAX_RESULT_BYTES {
            return Err(Error::ResultTooLarge {
                op: "set_result",
                size: json.len(),
                limit: MAX_RESULT_BYTES,
            });
        }
        match &self.status {
            Some(status) => status.set_result(json),
            None => Ok(()),
        }
    }

    /// Where this run's progress, result and memo go (`None`: nowhere).
    pub(crate) fn run_status(&self) -> Option<&RunStatus> {
        self.status.as_ref()
    }

    /// The tracing span the job runs in (job id, type, queue, attempt).
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The parents the job waited for, in the order its producer named
    /// them (empty for a job without parents).
    pub fn parents(&self) -> &[ParentRef] {
        self.parents.as_deref().unwrap_or(&[])
    }
}
