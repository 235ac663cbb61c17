//! Per-job options and the [`JobBuilder`] returned by [`Client::job`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::client::handle::Client;
use crate::client::options::{Expiry, JobOptions, ParentSpec, RunAt};
use crate::client::prepared::PreparedJob;
use crate::client::unique::{UniqueMode, UniqueOptions, UniqueOutcome};
use crate::error::Error;
use crate::job::backoff::BackoffPolicy;
use crate::job::dependencies::OnParentFailure;
use crate::job::stateful::StatefulJob;

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
pub struct JobBuilder<'c, J: StatefulJob> {
    client: &'c Client,
    job: J,
    options: JobOptions,
}

impl<'c, J: StatefulJob> JobBuilder<'c, J> {
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

    /// Lets other jobs wait for this one ([`JobBuilder::after`]): its
    /// success or death is recorded for them. Only jobs marked so can be
    /// named as parents; other jobs pay nothing for the feature.
    ///
    /// ```no_run
    /// # use jobqueue_core::{Client, Job, JobContext, JobError, OnParentFailure};
    /// # #[derive(serde::Serialize, serde::Deserialize)] struct Fetch { day: u32 }
    /// # impl Job for Fetch {
    /// #     const NAME: &'static str = "fetch";
    /// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # #[derive(serde::Serialize, serde::Deserialize)] struct Report { day: u32 }
    /// # impl Job for Report {
    /// #     const NAME: &'static str = "report";
    /// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # async fn demo(client: Client) -> Result<(), jobqueue_core::Error> {
    /// let a = client.job(Fetch { day: 1 }).with_dependents().enqueue().await?;
    /// let b = client.job(Fetch { day: 2 }).with_dependents().queue("slow").enqueue().await?;
    /// // Runs once both succeeded; dead-lettered if either dies.
    /// client
    ///     .job(Report { day: 2 })
    ///     .after_all([a, b])
    ///     .on_parent_failure(OnParentFailure::DeadLetter)
    ///     .enqueue()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn with_dependents(mut self) -> Self {
        self.options.dependents = true;
        self
    }

    /// Runs this job only after `parent` (a job enqueued with
    /// [`JobBuilder::with_dependents`]) succeeded. Until then it waits in
    /// its queue's waiting-for-parents place; a parent that already
    /// succeeded counts at once. Pass a `Uuid` (its queue is looked up
    /// among the known queues) or `(queue, id)`. May be repeated.
    pub fn after(mut self, parent: impl Into<ParentSpec>) -> Self {
        self.options.after.push(parent.into());
        self
    }

    /// Like [`JobBuilder::after`], with this parent's own failure policy
    /// (the edge's): e.g. skip this job if the parent dies, whatever the
    /// other parents' policies.
    pub fn after_with(mut self, parent: impl Into<ParentSpec>, policy: OnParentFailure) -> Self {
        self.options.after.push(parent.into().with_policy(policy));
        self
    }

    /// Runs this job only after every one of `parents` succeeded (fan-in).
    pub fn after_all<P: Into<ParentSpec>>(mut self, parents: impl IntoIterator<Item = P>) -> Self {
        self.options
            .after
            .extend(parents.into_iter().map(Into::into));
        self
    }

    /// What a parent's death does to this job (default
    /// [`OnParentFailure::DeadLetter`]).
    pub fn on_parent_failure(mut self, policy: OnParentFailure) -> Self {
        self.options.on_parent_failure = policy;
        self
    }

    /// Runs the job under flow key `key` (`class:value`, e.g.
    /// `account:42`, or `type:<job name>` for a limit per job type),
    /// overriding [`Job::flow_key`](crate::Job::flow_key): at most the class's running limit of
    /// the key's jobs run at once across all workers (1 unless configured
    /// with [`crate::Admin::set_key_limits`]), FIFO within the key, within
    /// the class's rate limit, and a busy key never holds up other jobs.
    /// Priority does not apply to keyed jobs.
    pub fn flow_key(mut self, key: impl Into<String>) -> Self {
        self.options.flow_key = Some(key.into());
        self
    }

    /// Tags the job (`["customer:4711", "import:2026-11"]`) so an operator
    /// finds it by tag in the dashboard, the API and `jobqueue jobs
    /// search`. At most [`MAX_TAGS`](crate::job::tags::MAX_TAGS) distinct
    /// tags of 1-[`MAX_TAG_LEN`](crate::job::tags::MAX_TAG_LEN) bytes
    /// without control characters; anything else makes the enqueue fail
    /// with an invalid-argument error before anything is sent. A tagged job
    /// is enqueued by a script (not the bare `RPUSH` of a plain job) that
    /// indexes its tags in the same step. Calling it again replaces the tags.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Gives the job the id `id` instead of a fresh one, which makes its
    /// enqueue safe to retry. An enqueue that fails with
    /// [`ErrorKind::OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown) (a
    /// timeout, a connection dropped mid-request, a failover) may have
    /// stored the job; retried with the same id, the same job is enqueued
    /// at most once:
    ///
    /// * no job holds the id: the job is enqueued ([`UniqueOutcome::Enqueued`]);
    /// * the same job (type and payload) already holds it — the first
    ///   attempt was applied: nothing is enqueued and
    ///   [`UniqueOutcome::Exists`] is returned with the id;
    /// * another job holds it: nothing is enqueued and the enqueue fails
    ///   with [`Error::DuplicateId`].
    ///
    /// The id is recognised for the client's idempotency window
    /// ([`crate::ClientConfig::idempotency_window`], default 1 hour) after
    /// the first enqueue, and for as long as a job under it waits
    /// (scheduled, retrying, dead, …). "Same payload" means the same
    /// serialized bytes: a payload holding a `HashMap` may serialize its
    /// entries in another order (use a `BTreeMap`).
    ///
    /// The id must be a UUID v7 (make it once with `Uuid::now_v7()` and
    /// keep it for the retries): its timestamp is taken as the job's
    /// enqueue time, which orders it in its queue. Works with every option
    /// except [`JobBuilder::unique_for`], which deduplicates by its own key
    /// (a retried unique enqueue already returns the job holding the key).
    /// With the id the enqueue is a script call instead of a bare `RPUSH`
    /// (a few µs of Redis time more).
    ///
    /// ```no_run
    /// # use jobqueue_core::{Client, Job, JobContext, JobError, UniqueOutcome};
    /// # #[derive(serde::Serialize, serde::Deserialize)] struct Invoice { order: u64 }
    /// # impl Job for Invoice {
    /// #     const NAME: &'static str = "invoice";
    /// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # async fn demo(client: Client) -> Result<(), jobqueue_core::Error> {
    /// let id = uuid::Uuid::now_v7(); // stored with the order, reused on retries
    /// let first = client.job(Invoice { order: 7 }).id(id).enqueue_unique().await;
    /// // Whatever `first` was (even a timeout), a retry cannot enqueue it twice:
    /// let again = client.job(Invoice { order: 7 }).id(id).enqueue_unique().await?;
    /// assert!(matches!(again, UniqueOutcome::Enqueued { .. } | UniqueOutcome::Exists { .. }));
    /// assert_eq!(again.id(), id);
    /// # let _ = first; Ok(()) }
    /// ```
    pub fn id(mut self, id: Uuid) -> Self {
        self.options.id = Some(id);
        self
    }

    /// Enqueues at most one job per `key` on the job's queue within
    /// `window`, even after that job finished (unlike
    /// [`JobBuilder::unique_for`], whose lock goes when the job ends): the
    /// same key with the same job type and payload returns the first job's
    /// id ([`UniqueOutcome::Exists`] from
    /// [`JobBuilder::enqueue_unique`]); with another type or payload it is
    /// refused with [`Error::IdempotencyConflict`] naming the first job.
    /// The key costs about 260 bytes of Redis memory for its window
    /// (`P:{Q}:idem:<sha256>`, see docs/durable-jobs.md). Bulk enqueues
    /// honour it too.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # async fn demo(client: jobqueue_core::Client, job: impl jobqueue_core::Job) -> Result<(), jobqueue_core::Error> {
    /// let id = client
    ///     .job(job)
    ///     .idempotency_key("checkout-7f3a", Duration::from_secs(24 * 3600))
    ///     .enqueue()
    ///     .await?;
    /// # let _ = id; Ok(()) }
    /// ```
    pub fn idempotency_key(mut self, key: impl Into<String>, window: Duration) -> Self {
        self.options.idempotency = Some(crate::client::options::IdempotencyKey {
            key: key.into(),
            window,
        });
        self
    }

    /// All options at once.
    pub fn options(mut self, options: JobOptions) -> Self {
        self.options = options;
        self
    }

    /// Encodes the job as a workflow node: with dependents and tracked; its
    /// parents and id come from the workflow, so `after`, `id` and
    /// uniqueness are refused.
    pub(crate) fn prepare_node(mut self) -> Result<PreparedJob, Error> {
        const OP: &str = "workflow";
        if !self.options.after.is_empty() {
            return Err(Error::invalid(
                OP,
                "a workflow node's parents are the workflow's edges: do not call .after() on it",
            ));
        }
        if self.options.unique.is_some() {
            return Err(Error::invalid(OP, "a workflow node cannot be unique"));
        }
        if self.options.id.is_some() {
            return Err(Error::invalid(
                OP,
                "a workflow node's job id is given by the workflow: do not call .id() on it",
            ));
        }
        self.options.dependents = true;
        self.options.track = true;
        self.client.prepare(&self.job, &self.options)
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

    /// Enqueues the job and says what uniqueness did: for a unique job,
    /// what its key did; for a job with a given id ([`JobBuilder::id`]),
    /// [`UniqueOutcome::Exists`] when it was already enqueued. An ordinary
    /// job is always [`UniqueOutcome::Enqueued`].
    pub async fn enqueue_unique(self) -> Result<UniqueOutcome, Error> {
        let prepared = self.client.prepare(&self.job, &self.options)?;
        self.client.send_one(prepared).await
    }
}

impl Client {
    /// Enqueues `job` to run now on its type's queue.
    pub async fn enqueue<J: StatefulJob>(&self, job: J) -> Result<Uuid, Error> {
        JobBuilder::new(self, job).enqueue().await
    }

    /// Enqueues `job` to run after `delay`.
    pub async fn enqueue_in<J: StatefulJob>(&self, delay: Duration, job: J) -> Result<Uuid, Error> {
        JobBuilder::new(self, job).delay(delay).enqueue().await
    }

    /// Enqueues `job` to run at `at` (at once if `at` is past).
    pub async fn enqueue_at<J: StatefulJob>(
        &self,
        at: DateTime<Utc>,
        job: J,
    ) -> Result<Uuid, Error> {
        JobBuilder::new(self, job).run_at(at).enqueue().await
    }

    /// Starts an enqueue with per-job options.
    pub fn job<J: StatefulJob>(&self, job: J) -> JobBuilder<'_, J> {
        JobBuilder::new(self, job)
    }
}
