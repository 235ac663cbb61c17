//! Per-job options and the [`JobBuilder`] returned by [`Client::job`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::backoff::BackoffPolicy;
use crate::client::Client;
use crate::error::Error;
use crate::job::Job;
use crate::unique::{UniqueMode, UniqueOptions, UniqueOutcome};

/// When a job should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAt {
    /// As soon as a worker is free.
    Now,
    /// After this delay (measured on the Redis clock).
    In(Duration),
    /// At this instant (compared with the Redis clock).
    At(DateTime<Utc>),
}

/// Options of one enqueue; unset options fall back to the job type's constants.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOptions {
    /// Queue name.
    pub queue: Option<String>,
    /// Priority within the queue (higher first); default 0.
    pub priority: i16,
    /// Most attempts, first run included.
    pub max_attempts: Option<u32>,
    /// Backoff policy for retries.
    pub backoff: Option<BackoffPolicy>,
    /// Time limit of one run; `Some(None)` means no limit.
    pub timeout: Option<Option<Duration>>,
    /// When to run.
    pub run_at: RunAt,
    /// Uniqueness; `None` for an ordinary job.
    pub unique: Option<UniqueOptions>,
    /// Not started by then → dropped as expired; `None`: never expires.
    pub expires: Option<Expiry>,
    /// Keep a status (final state, result) even if the job reports none.
    pub track: bool,
    /// Flow key (`class:value`); `None` takes [`Job::flow_key`].
    pub flow_key: Option<String>,
    /// W3C `traceparent` of the producer's trace, carried to the job's span
    /// (see [`crate::tracecontext`]); `None` takes the current span's
    /// context when the `opentelemetry` feature is on.
    pub traceparent: Option<String>,
}

/// When a job that has not started is dropped instead of run late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// This long after the enqueue (the producer's clock).
    In(Duration),
    /// At this instant.
    At(DateTime<Utc>),
}

impl Default for JobOptions {
    fn default() -> Self {
        Self {
            queue: None,
            priority: 0,
            max_attempts: None,
            backoff: None,
            timeout: None,
            run_at: RunAt::Now,
            unique: None,
            expires: None,
            track: false,
            flow_key: None,
            traceparent: None,
        }
    }
}

/// Builds one enqueue with options; finish with [`JobBuilder::enqueue`].
///
/// ```no_run
/// # use jobqueue_core::{Client, Job, JobContext, JobError};
/// # use serde::{Deserialize, Serialize};
/// # use std::time::Duration;
/// # #[derive(Serialize, Deserialize)] struct Report { id: u64 }
/// # impl Job for Report {
/// #     const NAME: &'static str = "report";
/// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
/// # }
/// # async fn demo(client: Client) -> Result<(), jobqueue_core::Error> {
/// let id = client
///     .job(Report { id: 7 })
///     .queue("reports")
///     .priority(5)
///     .max_attempts(3)
///     .timeout(Duration::from_secs(120))
///     .delay(Duration::from_secs(30))
///     .enqueue()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a JobBuilder does nothing until .enqueue() is awaited"]
pub struct JobBuilder<'c, J: Job> {
    client: &'c Client,
    job: J,
    options: JobOptions,
}

impl<'c, J: Job> JobBuilder<'c, J> {
    pub(crate) fn new(client: &'c Client, job: J) -> Self {
        Self {
            client,
            job,
            options: JobOptions::default(),
        }
    }

    /// Sends the job to `queue` instead of the job type's queue.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.options.queue = Some(queue.into());
        self
    }

    /// Priority within the queue, -100..=100; higher runs first. A job
    /// with priority p is ordered as if it had been ready p minutes
    /// earlier, so low priorities wait longer but never forever.
    pub fn priority(mut self, priority: i16) -> Self {
        self.options.priority = priority;
        self
    }

    /// Most attempts (first run included) before the job is dead.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.options.max_attempts = Some(attempts);
        self
    }

    /// Backoff policy between retries of this job.
    pub fn backoff(mut self, policy: BackoffPolicy) -> Self {
        self.options.backoff = Some(policy);
        self
    }

    /// Time limit of one run.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(Some(timeout));
        self
    }

    /// No time limit for this job's runs.
    pub fn no_timeout(mut self) -> Self {
        self.options.timeout = Some(None);
        self
    }

    /// Run after `delay`.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.options.run_at = RunAt::In(delay);
        self
    }

    /// Run at `at` (or at once if `at` is past).
    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.options.run_at = RunAt::At(at);
        self
    }

    /// Makes the job unique for `ttl`: while a job with the same
    /// uniqueness key (default: job type + payload; see
    /// [`JobBuilder::unique_key`]) waits or runs on the same queue, a
    /// duplicate is rejected and the holder's id returned (or see
    /// [`JobBuilder::on_duplicate`]). The key is freed when the job
    /// succeeds or dies, and after `ttl` whatever happens.
    ///
    /// ```no_run
    /// # use jobqueue_core::{Client, Job, JobContext, JobError, UniqueMode};
    /// # use std::time::Duration;
    /// # #[derive(serde::Serialize, serde::Deserialize)] struct Reindex { account: u64 }
    /// # impl Job for Reindex {
    /// #     const NAME: &'static str = "reindex";
    /// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # async fn demo(client: Client) -> Result<(), jobqueue_core::Error> {
    /// // Reindex an account 30 s after its last change, once.
    /// let outcome = client
    ///     .job(Reindex { account: 7 })
    ///     .delay(Duration::from_secs(30))
    ///     .unique_for(Duration::from_secs(600))
    ///     .unique_key("reindex:7")
    ///     .on_duplicate(UniqueMode::Debounce)
    ///     .enqueue_unique()
    ///     .await?;
    /// println!("job {} will run", outcome.id());
    /// # Ok(()) }
    /// ```
    pub fn unique_for(mut self, ttl: Duration) -> Self {
        self.unique_options().ttl = ttl;
        self
    }

    /// Uses `key` as the uniqueness key instead of job type + payload
    /// (needs [`JobBuilder::unique_for`]). Keys are scoped to the queue.
    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_options().key = Some(key.into());
        self
    }

    /// What a duplicate does (default [`UniqueMode::Reject`]; needs
    /// [`JobBuilder::unique_for`]).
    pub fn on_duplicate(mut self, mode: UniqueMode) -> Self {
        self.unique_options().mode = mode;
        self
    }

    fn unique_options(&mut self) -> &mut UniqueOptions {
        self.options.unique.get_or_insert(UniqueOptions {
            ttl: Duration::ZERO,
            key: None,
            mode: UniqueMode::Reject,
        })
    }

    /// Drops the job as expired if it has not started within `ttl` of
    /// now (the producer's clock): a job that is only useful soon (a
    /// one-time code, a live notification) is not run late.
    pub fn expires_in(mut self, ttl: Duration) -> Self {
        self.options.expires = Some(Expiry::In(ttl));
        self
    }

    /// Drops the job as expired if it has not started by `at`.
    pub fn expires_at(mut self, at: DateTime<Utc>) -> Self {
        self.options.expires = Some(Expiry::At(at));
        self
    }

    /// Keeps a status for this job (its final state and result) even if it
    /// reports no progress, so [`Client::wait_result`] and
    /// [`Client::status`] see how it ended.
    pub fn track(mut self) -> Self {
        self.options.track = true;
        self
    }

    /// Continues the trace `traceparent` (a W3C `traceparent` header value,
    /// e.g. from the web request that enqueues the job) in the job's span.
    /// A malformed value makes the enqueue fail with an invalid-argument error.
    pub fn traceparent(mut self, traceparent: impl Into<String>) -> Self {
        self.options.traceparent = Some(traceparent.into());
        self
    }

    /// Runs the job under flow key `key` (`class:value`, e.g.
    /// `account:42`, or `type:<job name>` for a limit per job type),
    /// overriding [`Job::flow_key`]: at most the class's running limit of
    /// the key's jobs run at once across all workers (1 unless configured
    /// with [`crate::Admin::set_key_limits`]), FIFO within the key, within
    /// the class's rate limit, and a busy key never holds up other jobs.
    /// Priority does not apply to keyed jobs.
    pub fn flow_key(mut self, key: impl Into<String>) -> Self {
        self.options.flow_key = Some(key.into());
        self
    }

    /// All options at once.
    pub fn options(mut self, options: JobOptions) -> Self {
        self.options = options;
        self
    }

    /// Encodes the job without sending it, for [`Client::enqueue_prepared`].
    pub fn prepare(self) -> Result<PreparedJob, Error> {
        self.client.prepare(&self.job, &self.options)
    }

    /// Enqueues the job; returns its id once Redis has it. For a unique
    /// job that is the id of the job that will run for its key (the
    /// existing one when a duplicate was rejected or debounced).
    pub async fn enqueue(self) -> Result<Uuid, Error> {
        self.enqueue_unique().await.map(|outcome| outcome.id())
    }

    /// Enqueues the job and says what uniqueness did (an ordinary job is
    /// always [`UniqueOutcome::Enqueued`]).
    pub async fn enqueue_unique(self) -> Result<UniqueOutcome, Error> {
        let prepared = self.client.prepare(&self.job, &self.options)?;
        self.client.send_one(prepared).await
    }
}

/// A job encoded and ready to send; see [`JobBuilder::prepare`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedJob {
    pub(crate) id: Uuid,
    pub(crate) queue: String,
    pub(crate) record: Vec<u8>,
    pub(crate) destination: Destination,
    pub(crate) unique: Option<PreparedUnique>,
}

/// A unique job's lock settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedUnique {
    pub(crate) digest: String,
    pub(crate) ttl_ms: u64,
    pub(crate) mode: UniqueMode,
}

impl PreparedJob {
    /// The job id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The queue it goes to.
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// The encoded record.
    pub fn record(&self) -> &[u8] {
        &self.record
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination {
    Ready,
    /// Through `enqueue_priority.lua`, which files prioritised and keyed
    /// jobs (`make_ready_all`).
    Priority,
    Scheduled(crate::store::ScheduleAt),
}
