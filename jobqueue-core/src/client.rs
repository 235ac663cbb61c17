//! [`Client`]: the producer. Enqueues typed jobs, one at a time or in bulk.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::admin::Admin;
use crate::config::ClientConfig;
use crate::enqueue_options::{
    Destination, Expiry, JobBuilder, JobOptions, PreparedJob, PreparedUnique, RunAt,
};
use crate::error::Error;
use crate::job::{Job, validate_job_type};
use crate::keys::QueueKeys;
use crate::record::{Envelope, encode_job_record, encode_record};
use crate::store::enqueue::{EnqueueCall, MAX_RECORDS_PER_CALL};
use crate::store::unique::{MAX_UNIQUE_PER_CALL, UniqueEnqueue, parse_unique_replies};
use crate::store::{ScheduleAt, Store};
use crate::unique::{UniqueOutcome, key_digest, ttl_ms};

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
    /// trip. Jobs for the same queue keep their order.
    pub async fn enqueue_prepared<I>(&self, jobs: I) -> Result<Vec<Uuid>, Error>
    where
        I: IntoIterator<Item = PreparedJob>,
    {
        let jobs: Vec<PreparedJob> = jobs.into_iter().collect();
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let mut queue_keys: Vec<Arc<QueueKeys>> = Vec::new();
        for job in &jobs {
            if !queue_keys.iter().any(|q| q.name() == job.queue) {
                queue_keys.push(self.queue_keys(&job.queue).await?);
            }
        }
        let keys_of = |name: &str| queue_keys.iter().find(|q| q.name() == name);
        let mut calls: Vec<EnqueueCall<'_>> = Vec::new();
        // (job index, call index, place in the call) of each unique job:
        // its reply says which job holds the key.
        let mut unique_jobs = Vec::new();
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
                    crate::enqueue_after::delay_ms(job.destination),
                ));
            }
            if let Some(unique) = &job.unique {
                let place = push_unique_into_calls(&mut calls, queue, unique_enqueue(job, unique));
                unique_jobs.push((index, calls.len() - 1, place));
            } else {
                push_into_calls(&mut calls, queue, job);
            }
        }
        let mut replies = self.inner.store.enqueue_pipelined(&calls).await?;
        for queue in &queue_keys {
            self.confirm_replicated(queue).await?;
        }
        let mut ids: Vec<Uuid> = jobs.iter().map(|job| job.id).collect();
        let mut outcomes: HashMap<usize, Vec<UniqueOutcome>> = HashMap::new();
        for (job_index, call_index, place) in unique_jobs {
            if let Entry::Vacant(slot) = outcomes.entry(call_index) {
                let reply = std::mem::replace(&mut replies[call_index], redis::Value::Nil);
                slot.insert(parse_unique_replies(reply)?);
            }
            ids[job_index] = outcomes
                .get(&call_index)
                .and_then(|call| call.get(place))
                .ok_or_else(|| Error::protocol("enqueue_bulk", "no outcome for a unique job"))?
                .id();
        }
        for index in waiting {
            ids[index] = self.send_waiting(jobs[index].clone()).await?.id();
        }
        Ok(ids)
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
        crate::keys::validate_queue_name(queue)?;
        crate::enqueue_after::validate_parents(options)?;

        let mut envelope = Envelope::new(J::NAME);
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
            crate::flow::validate_flow_key(key)?;
        }
        envelope.expires_at = options.expires.map(|expiry| match expiry {
            Expiry::In(ttl) => Utc::now()
                .timestamp_millis()
                .saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)),
            Expiry::At(at) => at.timestamp_millis(),
        });
        envelope.traceparent = match &options.traceparent {
            Some(given) => Some(crate::tracecontext::validate(given)?.to_owned()),
            None => crate::tracecontext::current(),
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
            && ms > crate::unique::MAX_UNIQUE_TTL_MS
        {
            return Err(Error::invalid(
                OP,
                format!(
                    "a unique job's delay must be at most {} ms",
                    crate::unique::MAX_UNIQUE_TTL_MS
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
            after: crate::enqueue_after::distinct_parents(&options.after),
            on_parent_failure: options.on_parent_failure,
        })
    }

    /// Sends one prepared job (the single-enqueue hot path: one script call).
    pub(crate) async fn send_one(&self, job: PreparedJob) -> Result<UniqueOutcome, Error> {
        if !job.after.is_empty() {
            return self.send_waiting(job).await;
        }
        if job.dependents {
            let mut ids = self.enqueue_prepared([job]).await?;
            return ids
                .pop()
                .map(|id| UniqueOutcome::Enqueued { id })
                .ok_or_else(|| Error::protocol("enqueue", "no id for the enqueued job"));
        }
        let queue = self.queue_keys(&job.queue).await?;
        let store = &self.inner.store;
        if let Some(unique) = &job.unique {
            let outcome = store
                .enqueue_unique(&queue, &unique_enqueue(&job, unique))
                .await?;
            self.confirm_replicated(&queue).await?;
            return Ok(outcome);
        }
        match job.destination {
            Destination::Ready => store.enqueue_ready(&queue, &job.record).await.map(|_| ())?,
            Destination::Priority => store.enqueue_priority(&queue, &job.record).await?,
            Destination::Scheduled(at) => store.schedule(&queue, &job.record, at).await?,
        }
        self.confirm_replicated(&queue).await?;
        Ok(UniqueOutcome::Enqueued { id: job.id })
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
            .connection()
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
