//! [`Client`]: the producer. Enqueues typed jobs, one at a time or in bulk.

mod after;
pub mod builder;
pub mod cancel;
pub mod status;
pub mod unique;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::admin::Admin;
use crate::client::builder::{
    Destination, Expiry, JobBuilder, JobOptions, PreparedJob, PreparedUnique, RunAt,
};
use crate::client::unique::{UniqueOutcome, key_digest, ttl_ms};
use crate::config::ClientConfig;
use crate::error::{Error, ErrorKind};
use crate::job::{Job, validate_job_type};
use crate::store::enqueue::{EnqueueCall, MAX_RECORDS_PER_CALL};
use crate::store::keys::QueueKeys;
use crate::store::ops::enqueue_unique::{MAX_UNIQUE_PER_CALL, UniqueEnqueue, parse_unique_replies};
use crate::store::ops::enqueue_with_id::{
    IdEnqueue, IdOutcome, MAX_WITH_ID_PER_CALL, parse_with_id_replies,
};
use crate::store::{ScheduleAt, Store};
use crate::wire::record::{Envelope, encode_job_record, encode_record};

/// Highest accepted priority magnitude.
pub const MAX_PRIORITY: i16 = 100;

/// Enqueues jobs. Cheap to clone: clones share one Redis connection.
///
/// ```no_run
/// use jobqueue_core::{Client, Job, JobContext, JobError};
/// use serde::{Deserialize, Serialize};
/// use std::time::Duration;
///
/// #[derive(Serialize, Deserialize)]
/// struct SendWelcomeEmail { user_id: u64, email: String }
///
/// impl Job for SendWelcomeEmail {
///     const NAME: &'static str = "send_welcome_email";
///     async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> { Ok(()) }
/// }
///
/// # async fn demo() -> Result<(), jobqueue_core::Error> {
/// let client = Client::connect("redis://127.0.0.1:6379").await?;
/// let job = || SendWelcomeEmail { user_id: 1, email: "a@example.com".into() };
/// let id = client.enqueue(job()).await?;                          // now
/// client.enqueue_in(Duration::from_secs(30), job()).await?;       // delayed
/// client.enqueue_at(chrono::Utc::now(), job()).await?;            // at a time
/// client.job(job()).queue("mail").max_attempts(5).enqueue().await?; // with options
/// client.enqueue_bulk((0..1000).map(|_| job())).await?;           // one round trip
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    store: Store,
    config: ClientConfig,
    /// Queue keys built so far (also: queues already registered).
    queues: RwLock<Vec<Arc<QueueKeys>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("prefix", &self.inner.config.prefix)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the Redis at `url` with default settings.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::with_config(ClientConfig::new(url)).await
    }

    /// Connects with the given settings.
    pub async fn with_config(config: ClientConfig) -> Result<Self, Error> {
        let store = Store::connect(&config.redis_url, &config.prefix, config.connection).await?;
        Ok(Self {
            inner: Arc::new(ClientInner {
                store,
                config,
                queues: RwLock::new(Vec::new()),
            }),
        })
    }

    /// The settings this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The underlying store (low-level, one method per state transition).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The operator API: inspect queues and jobs, retry, delete, pause.
    pub fn admin(&self) -> Admin {
        Admin::new(self.inner.store.clone())
    }

    /// Enqueues `job` to run now on its type's queue.
    pub async fn enqueue<J: Job>(&self, job: J) -> Result<Uuid, Error> {
        JobBuilder::new(self, job).enqueue().await
    }

    /// Enqueues `job` to run after `delay`.
    pub async fn enqueue_in<J: Job>(&self, delay: Duration, job: J) -> Result<Uuid, Error> {
        JobBuilder::new(self, job).delay(delay).enqueue().await
    }

    /// Enqueues `job` to run at `at` (at once if `at` is past).
    pub async fn enqueue_at<J: Job>(&self, at: DateTime<Utc>, job: J) -> Result<Uuid, Error> {
        JobBuilder::new(self, job).run_at(at).enqueue().await
    }

    /// Starts an enqueue with per-job options.
    pub fn job<J: Job>(&self, job: J) -> JobBuilder<'_, J> {
        JobBuilder::new(self, job)
    }

    /// Enqueues many jobs of one type with their type's defaults, in one
    /// round trip (batches of up to 1000 records per script call, all
    /// pipelined). Returns the ids in order.
    pub async fn enqueue_bulk<J, I>(&self, jobs: I) -> Result<Vec<Uuid>, Error>
    where
        J: Job,
        I: IntoIterator<Item = J>,
    {
        let options = JobOptions::default();
        let prepared = jobs
            .into_iter()
            .map(|job| self.prepare(&job, &options))
            .collect::<Result<Vec<_>, _>>()?;
        self.enqueue_prepared(prepared).await
    }

    /// Enqueues prepared jobs (any types, queues and options) in one round
    /// trip. Jobs for the same queue keep their order. Returns their ids;
    /// fails with the first job's error when a job was refused (a job id
    /// another job holds, see [`JobBuilder::id`]) — the others were
    /// enqueued, and retrying the same jobs with their ids is safe. Use
    /// [`Client::enqueue_prepared_outcomes`] for each job's own outcome.
    ///
    /// Two jobs of one call sharing a generated id (a [`PreparedJob`] sent
    /// twice) are refused with [`Error::DuplicateId`] before anything is
    /// sent.
    pub async fn enqueue_prepared<I>(&self, jobs: I) -> Result<Vec<Uuid>, Error>
    where
        I: IntoIterator<Item = PreparedJob>,
    {
        self.enqueue_prepared_outcomes(jobs)
            .await?
            .into_iter()
            .map(|outcome| outcome.map(|outcome| outcome.id()))
            .collect()
    }

    /// Enqueues prepared jobs as [`Client::enqueue_prepared`] does and says
    /// what happened to each, in order: what uniqueness or a given id did
    /// ([`UniqueOutcome`]), or the job's own refusal (a given id another
    /// job holds: [`Error::DuplicateId`]; a parent that does not exist).
    /// The outer error is the call's: Redis failed (see
    /// [`Error::outcome_unknown`] for whether jobs may have been stored).
    /// Each script call is atomic: jobs with given ids are checked and
    /// enqueued together, up to 200 per call.
    pub async fn enqueue_prepared_outcomes<I>(
        &self,
        jobs: I,
    ) -> Result<Vec<Result<UniqueOutcome, Error>>, Error>
    where
        I: IntoIterator<Item = PreparedJob>,
    {
        let jobs: Vec<PreparedJob> = jobs.into_iter().collect();
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        refuse_repeated_ids(&jobs)?;
        let mut queue_keys: Vec<Arc<QueueKeys>> = Vec::new();
        for job in &jobs {
            if !queue_keys.iter().any(|q| q.name() == job.queue) {
                queue_keys.push(self.queue_keys(&job.queue).await?);
            }
        }
        let keys_of = |name: &str| queue_keys.iter().find(|q| q.name() == name);
        let mut calls: Vec<EnqueueCall<'_>> = Vec::new();
        // (job index, call index, place in the call) of each unique job and
        // each job with a given id: its call's reply holds its outcome.
        let mut unique_jobs = Vec::new();
        let mut id_jobs = Vec::new();
        // Jobs with parents go one by one after the others (their parents
        // may be among them).
        let mut waiting = Vec::new();
        for (index, job) in jobs.iter().enumerate() {
            let Some(queue) = keys_of(&job.queue) else {
                continue;
            };
            if !job.after.is_empty() {
                waiting.push(index);
                continue;
            }
            if job.dependents {
                calls.push(EnqueueCall::OpenParent(
                    queue,
                    job.id,
                    crate::client::after::delay_ms(job.destination),
                ));
            }
            if let Some(unique) = &job.unique {
                let place = push_unique_into_calls(&mut calls, queue, unique_enqueue(job, unique));
                unique_jobs.push((index, calls.len() - 1, place));
            } else if job.given_id {
                let place = push_with_id_into_calls(&mut calls, queue, id_enqueue(job));
                id_jobs.push((index, calls.len() - 1, place));
            } else {
                push_into_calls(&mut calls, queue, job);
            }
        }
        let window_ms = self.idempotency_window_ms()?;
        let mut replies = self
            .inner
            .store
            .enqueue_pipelined(&calls, window_ms)
            .await
            .map_err(|err| self.write_error(err))?;
        for queue in &queue_keys {
            self.confirm_replicated(queue).await?;
        }
        let mut outcomes: Vec<Result<UniqueOutcome, Error>> = jobs
            .iter()
            .map(|job| Ok(UniqueOutcome::Enqueued { id: job.id }))
            .collect();
        let mut unique_replies: HashMap<usize, Vec<UniqueOutcome>> = HashMap::new();
        for (job_index, call_index, place) in unique_jobs {
            if let Entry::Vacant(slot) = unique_replies.entry(call_index) {
                let reply = std::mem::replace(&mut replies[call_index], redis::Value::Nil);
                slot.insert(parse_unique_replies(reply)?);
            }
            outcomes[job_index] = Ok(*unique_replies
                .get(&call_index)
                .and_then(|call| call.get(place))
                .ok_or_else(|| Error::protocol("enqueue_bulk", "no outcome for a unique job"))?);
        }
        let mut id_replies: HashMap<usize, Vec<IdOutcome>> = HashMap::new();
        for (job_index, call_index, place) in id_jobs {
            if let Entry::Vacant(slot) = id_replies.entry(call_index) {
                let reply = std::mem::replace(&mut replies[call_index], redis::Value::Nil);
                slot.insert(parse_with_id_replies(reply)?);
            }
            let outcome = id_replies
                .get(&call_index)
                .and_then(|call| call.get(place))
                .ok_or_else(|| {
                    Error::protocol("enqueue_bulk", "no outcome for a job with an id")
                })?;
            outcomes[job_index] = id_outcome(*outcome, &jobs[job_index].queue);
        }
        for index in waiting {
            outcomes[index] = match self.send_waiting(jobs[index].clone()).await {
                Ok(outcome) => Ok(outcome),
                // The job's own refusal; the others stay enqueued.
                Err(err)
                    if matches!(err.kind(), ErrorKind::Conflict | ErrorKind::InvalidArgument) =>
                {
                    Err(err)
                }
                Err(err) => return Err(self.write_error(err)),
            };
        }
        Ok(outcomes)
    }

    /// Encodes a job with options into a [`PreparedJob`].
    pub(crate) fn prepare<J: Job>(
        &self,
        job: &J,
        options: &JobOptions,
    ) -> Result<PreparedJob, Error> {
        const OP: &str = "enqueue";
        validate_job_type(J::NAME)?;
        if options.priority.abs() > MAX_PRIORITY {
            return Err(Error::invalid(
                OP,
                format!(
                    "priority {} is outside -{MAX_PRIORITY}..={MAX_PRIORITY}",
                    options.priority
                ),
            ));
        }
        if options.max_attempts == Some(0) {
            return Err(Error::invalid(OP, "max_attempts must be at least 1"));
        }
        let queue = options.queue.as_deref().unwrap_or(J::QUEUE);
        crate::store::keys::validate_queue_name(queue)?;
        crate::client::after::validate_parents(options)?;

        let mut envelope = Envelope::new(J::NAME);
        if let Some(id) = options.id {
            validate_given_id(id, options)?;
            envelope.id = id;
        }
        envelope.max_attempts = options
            .max_attempts
            .filter(|&attempts| attempts != J::MAX_ATTEMPTS);
        envelope.priority = options.priority;
        envelope.backoff = options.backoff.clone();
        envelope.timeout_ms = match options.timeout {
            Some(timeout) if timeout != J::TIMEOUT => {
                Some(timeout.map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)))
            }
            _ => None,
        };
        envelope.version = J::VERSION;
        envelope.track = options.track;
        envelope.dependents = options.dependents;
        envelope.flow = options.flow_key.clone().or_else(|| job.flow_key());
        if let Some(key) = &envelope.flow {
            crate::admin::keys::validate_flow_key(key)?;
        }
        envelope.expires_at = options.expires.map(|expiry| match expiry {
            Expiry::In(ttl) => Utc::now()
                .timestamp_millis()
                .saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)),
            Expiry::At(at) => at.timestamp_millis(),
        });
        envelope.traceparent = match &options.traceparent {
            Some(given) => Some(crate::wire::trace_context::validate(given)?.to_owned()),
            None => crate::wire::trace_context::current(),
        };

        let mut unique = None;
        let (record, payload_len) = match &options.unique {
            None => encode_job_record(&envelope, job)?,
            Some(settings) => {
                // The default key hashes the payload, so it is encoded first.
                let payload = serde_json::to_vec(job).map_err(|source| Error::Encode {
                    op: OP,
                    job_type: J::NAME.to_owned(),
                    source,
                })?;
                let digest = key_digest(J::NAME, settings.key.as_deref(), &payload);
                envelope.unique = Some(digest.clone());
                unique = Some(PreparedUnique {
                    digest,
                    ttl_ms: ttl_ms(settings.ttl)?,
                    mode: settings.mode,
                });
                let payload_len = payload.len();
                (encode_record(&envelope, &payload)?, payload_len)
            }
        };
        let limit = self.inner.config.max_payload_bytes;
        if payload_len > limit {
            return Err(Error::PayloadTooLarge {
                op: OP,
                job_type: J::NAME.to_owned(),
                size: payload_len,
                limit,
            });
        }
        let destination = match options.run_at {
            RunAt::Now if options.priority != 0 || envelope.flow.is_some() => Destination::Priority,
            RunAt::Now => Destination::Ready,
            RunAt::In(delay) => Destination::Scheduled(ScheduleAt::In(
                u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            )),
            RunAt::At(at) => Destination::Scheduled(ScheduleAt::At(at.timestamp_millis())),
        };
        if unique.is_some()
            && let Destination::Scheduled(ScheduleAt::In(ms)) = destination
            && ms > crate::client::unique::MAX_UNIQUE_TTL_MS
        {
            return Err(Error::invalid(
                OP,
                format!(
                    "a unique job's delay must be at most {} ms",
                    crate::client::unique::MAX_UNIQUE_TTL_MS
                ),
            ));
        }
        Ok(PreparedJob {
            id: envelope.id,
            queue: queue.to_owned(),
            record,
            destination,
            unique,
            dependents: options.dependents,
            after: crate::client::after::distinct_parents(&options.after),
            on_parent_failure: options.on_parent_failure,
            given_id: options.id.is_some(),
        })
    }

    /// Sends one prepared job (the single-enqueue hot path: a bare `RPUSH`
    /// or one script call).
    pub(crate) async fn send_one(&self, job: PreparedJob) -> Result<UniqueOutcome, Error> {
        if !job.after.is_empty() {
            return self
                .send_waiting(job)
                .await
                .map_err(|err| self.write_error(err));
        }
        if job.dependents {
            return self
                .enqueue_prepared_outcomes([job])
                .await?
                .pop()
                .unwrap_or_else(|| Err(Error::protocol("enqueue", "no outcome for the job")));
        }
        self.send_alone(job)
            .await
            .map_err(|err| self.write_error(err))
    }

    /// Sends one job that has neither parents nor dependents.
    async fn send_alone(&self, job: PreparedJob) -> Result<UniqueOutcome, Error> {
        let queue = self.queue_keys(&job.queue).await?;
        let store = &self.inner.store;
        let outcome = if let Some(unique) = &job.unique {
            store
                .enqueue_unique(&queue, &unique_enqueue(&job, unique))
                .await?
        } else if job.given_id {
            let mut outcomes = store
                .enqueue_with_id(&queue, &[id_enqueue(&job)], self.idempotency_window_ms()?)
                .await?;
            let outcome = outcomes
                .pop()
                .ok_or_else(|| Error::protocol("enqueue", "no outcome for the job"))?;
            id_outcome(outcome, &job.queue)?
        } else {
            match job.destination {
                Destination::Ready => store.enqueue_ready(&queue, &job.record).await.map(|_| ())?,
                Destination::Priority => store.enqueue_priority(&queue, &job.record).await?,
                Destination::Scheduled(at) => store.schedule(&queue, &job.record, at).await?,
            }
            UniqueOutcome::Enqueued { id: job.id }
        };
        self.confirm_replicated(&queue).await?;
        Ok(outcome)
    }

    /// A failed write as the caller must see it: through redis-rs's Redis
    /// Cluster client, which repeats a request by itself after a dropped
    /// connection, any Redis failure may follow an attempt that was
    /// applied (see [`Error::OutcomeUnknown`]).
    fn write_error(&self, err: Error) -> Error {
        if self.inner.store.is_cluster() {
            err.after_retrying_client()
        } else {
            err
        }
    }

    /// The idempotency window in whole milliseconds (at least one).
    pub(crate) fn idempotency_window_ms(&self) -> Result<u64, Error> {
        let ms =
            u64::try_from(self.inner.config.idempotency_window.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return Err(Error::invalid(
                "enqueue",
                "the idempotency window (ClientConfig::idempotency_window) must be at least 1 ms",
            ));
        }
        Ok(ms)
    }

    /// With [`ClientConfig::wait_for_replicas`]: waits until the replicas
    /// of `queue`'s primary confirmed the writes sent so far.
    pub(crate) async fn confirm_replicated(&self, queue: &QueueKeys) -> Result<(), Error> {
        let Some(wait) = self.inner.config.replica_wait else {
            return Ok(());
        };
        let acknowledged = self
            .inner
            .store
            .wait_for_replicas(queue.ready(), wait.replicas, wait.timeout)
            .await?;
        if acknowledged < i64::from(wait.replicas) {
            return Err(Error::NotReplicated {
                op: "enqueue",
                acknowledged,
                wanted: wait.replicas,
            });
        }
        Ok(())
    }

    /// Keys of `queue`, registering the queue name on first use.
    pub(crate) async fn queue_keys(&self, queue: &str) -> Result<Arc<QueueKeys>, Error> {
        if let Ok(known) = self.inner.queues.read()
            && let Some(keys) = known.iter().find(|q| q.name() == queue)
        {
            return Ok(keys.clone());
        }
        let keys = Arc::new(self.inner.store.queue_keys(queue)?);
        self.inner.store.register_queues([queue]).await?;
        if let Ok(mut known) = self.inner.queues.write()
            && !known.iter().any(|q| q.name() == queue)
        {
            known.push(keys.clone());
        }
        Ok(keys)
    }
}

/// Checks a producer-given job id and the options it comes with.
fn validate_given_id(id: Uuid, options: &JobOptions) -> Result<(), Error> {
    const OP: &str = "enqueue";
    if id.get_version_num() != 7 {
        return Err(Error::invalid(
            OP,
            format!(
                "job id {id} is not a UUID v7: make it with Uuid::now_v7() once and keep it for \
                 the retries (its timestamp is the job's enqueue time, which orders it in its queue)"
            ),
        ));
    }
    if options.unique.is_some() {
        return Err(Error::invalid(
            OP,
            "a job with a given id (.id) cannot also be unique (.unique_for): a unique job is \
             deduplicated by its key, and a retried unique enqueue returns the job holding it",
        ));
    }
    Ok(())
}

/// Refuses a call in which two jobs without given ids share one (a
/// [`PreparedJob`] sent twice): their plain enqueue could not tell.
/// Generated ids are UUID v7, so a batch's ids are nearly sorted already.
fn refuse_repeated_ids(jobs: &[PreparedJob]) -> Result<(), Error> {
    let mut ids: Vec<u128> = jobs
        .iter()
        .filter(|job| !job.given_id)
        .map(|job| job.id.as_u128())
        .collect();
    ids.sort_unstable();
    match ids.windows(2).find(|pair| pair[0] == pair[1]) {
        None => Ok(()),
        Some(pair) => {
            let id = Uuid::from_u128(pair[0]);
            let queue = jobs
                .iter()
                .find(|job| job.id == id)
                .map(|job| job.queue.clone())
                .unwrap_or_default();
            Err(Error::DuplicateId {
                op: "enqueue",
                queue,
                id,
            })
        }
    }
}

/// A job with a given id, as `enqueue_with_id.lua` takes it.
fn id_enqueue(job: &PreparedJob) -> IdEnqueue<'_> {
    IdEnqueue {
        id: job.id,
        record: &job.record,
        at: match job.destination {
            Destination::Scheduled(at) => Some(at),
            Destination::Ready | Destination::Priority => None,
        },
    }
}

/// The caller's view of what `enqueue_with_id.lua` did with a job.
fn id_outcome(outcome: IdOutcome, queue: &str) -> Result<UniqueOutcome, Error> {
    match outcome {
        IdOutcome::Enqueued(id) => Ok(UniqueOutcome::Enqueued { id }),
        IdOutcome::Exists(existing) => Ok(UniqueOutcome::Exists { existing }),
        IdOutcome::Taken(id) => Err(Error::DuplicateId {
            op: "enqueue",
            queue: queue.to_owned(),
            id,
        }),
    }
}

/// Appends a job with a given id to the last call when that is an
/// `enqueue_with_id.lua` call for the same queue with room; otherwise
/// starts a new call. Returns the job's place in its call.
fn push_with_id_into_calls<'a>(
    calls: &mut Vec<EnqueueCall<'a>>,
    queue: &'a QueueKeys,
    job: IdEnqueue<'a>,
) -> usize {
    if let Some(EnqueueCall::WithId(q, jobs)) = calls.last_mut()
        && std::ptr::eq(*q, queue)
        && jobs.len() < MAX_WITH_ID_PER_CALL
    {
        jobs.push(job);
        return jobs.len() - 1;
    }
    calls.push(EnqueueCall::WithId(queue, vec![job]));
    0
}

/// The script arguments of a unique job.
fn unique_enqueue<'a>(job: &'a PreparedJob, unique: &'a PreparedUnique) -> UniqueEnqueue<'a> {
    UniqueEnqueue {
        digest: &unique.digest,
        ttl_ms: unique.ttl_ms,
        mode: unique.mode,
        record: &job.record,
        at: match job.destination {
            Destination::Scheduled(at) => Some(at),
            Destination::Ready | Destination::Priority => None,
        },
    }
}

/// Appends a unique job to the last call when that is a unique call for
/// the same queue with room; otherwise starts a new call. Returns the job's
/// place in its call.
fn push_unique_into_calls<'a>(
    calls: &mut Vec<EnqueueCall<'a>>,
    queue: &'a QueueKeys,
    job: UniqueEnqueue<'a>,
) -> usize {
    if let Some(EnqueueCall::Unique(q, jobs)) = calls.last_mut()
        && std::ptr::eq(*q, queue)
        && jobs.len() < MAX_UNIQUE_PER_CALL
    {
        jobs.push(job);
        return jobs.len() - 1;
    }
    calls.push(EnqueueCall::Unique(queue, vec![job]));
    0
}

/// Appends `job` to the last call when it goes to the same queue and
/// script and the call has room; otherwise starts a new call.
fn push_into_calls<'a>(
    calls: &mut Vec<EnqueueCall<'a>>,
    queue: &'a QueueKeys,
    job: &'a PreparedJob,
) {
    let same_queue = |q: &QueueKeys| std::ptr::eq(q, queue);
    match (calls.last_mut(), job.destination) {
        (Some(EnqueueCall::Ready(q, records)), Destination::Ready)
            if same_queue(q) && records.len() < MAX_RECORDS_PER_CALL =>
        {
            records.push(&job.record);
        }
        (Some(EnqueueCall::Priority(q, records)), Destination::Priority)
            if same_queue(q) && records.len() < MAX_RECORDS_PER_CALL =>
        {
            records.push(&job.record);
        }
        (Some(EnqueueCall::Scheduled(q, items)), Destination::Scheduled(at))
            if same_queue(q) && items.len() < MAX_RECORDS_PER_CALL =>
        {
            items.push((&job.record, at));
        }
        (_, Destination::Ready) => calls.push(EnqueueCall::Ready(queue, vec![&job.record])),
        (_, Destination::Priority) => calls.push(EnqueueCall::Priority(queue, vec![&job.record])),
        (_, Destination::Scheduled(at)) => {
            calls.push(EnqueueCall::Scheduled(queue, vec![(&job.record, at)]));
        }
    }
}
