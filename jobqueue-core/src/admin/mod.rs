//! The operator API: inspect queues and jobs, retry, delete, purge, pause.
//!
//! The dashboard, the JSON API and the `jobqueue` CLI are thin layers over
//! this module. Every call costs Redis O(page size) or O(number of queues
//! and workers): nothing here loads a whole set.
//!
//! | file | holds |
//! | --- | --- |
//! | `mod.rs` | queue info, totals, plain listings, job by id, retry/delete by id, purge, pause, workers |
//! | `browse.rs` | cursor pages per state with filters (bounded scan), bulk actions on all matching |
//! | `filter.rs` | [`JobFilter`] and the error fingerprint |
//! | `groups.rs` | dead jobs grouped by fingerprint (bounded sample) |
//! | `find.rs` | a job by id in any queue |
//! | `dependencies.rs` | a job's parents (with their states) and children |
//! | `running.rs` | what each worker is running now |
//! | `history.rs` | per-minute and per-day processed/failed buckets |
//! | `audit.rs` | the bounded audit log of operator actions and refused requests |
//! | `visible_text.rs` | escaping characters a reader cannot see (controls, bidi) |
//! | `server.rs` | Redis version and memory |

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::error::Error;
use crate::job::dependencies::{OnParentFailure, ParentRef};
use crate::store::keys::QueueKeys;
use crate::store::{QueueRegistry, Store};
use crate::wire::record::{
    ErrorEntry, decode_record, record_id_bytes, split_record, uuid_v7_millis,
};
use crate::wire::worker_info::WorkerInfo;

mod audit;
mod browse;
pub mod cron;
mod dependencies;
mod errors;
mod filter;
mod find;
pub mod finished;
mod history;
mod keyed;
pub mod keys;
pub mod limits;
mod running;
mod server;
mod visible_text;

pub use audit::{AUDIT_LOG_CAPACITY, AuditEntry, OUTCOME_DONE, REFUSALS_PER_MINUTE, RefusalReason};
pub use browse::{BrowseState, BulkAction, JobPage, MAX_SCAN_PER_PAGE};
pub use dependencies::{ChildRef, JobDependencies, ParentStatus};
pub use errors::{DEAD_GROUP_SAMPLE, ErrorGroup, ErrorGroups};
pub use filter::{JobFilter, error_fingerprint, normalise_error_message};
pub use history::{HistoryPoint, MAX_HISTORY_DAYS, MAX_HISTORY_MINUTES};
pub use running::RunningJob;
pub use server::ServerInfo;
pub use visible_text::{escape_hidden, escaped, is_hidden, is_invisible_format_char};

/// Largest page the listing calls return.
pub const MAX_PAGE_SIZE: usize = 1000;

/// How many jobs the bulk actions move per script call.
pub(crate) const BULK_BATCH: usize = 1000;

/// A state in which jobs wait in a sorted set (and can be listed by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobSet {
    /// Delayed or scheduled jobs, by run-at.
    Scheduled,
    /// Failed jobs waiting for their next attempt, by retry-at.
    Retry,
    /// Jobs that will not run again, by time of death.
    Dead,
    /// Jobs waiting for their parents, by enqueue time. Retrying one runs
    /// it now without waiting.
    Waiting,
}

impl JobSet {
    /// The set's key for `queue`.
    pub fn key<'q>(&self, queue: &'q QueueKeys) -> &'q str {
        match self {
            JobSet::Scheduled => queue.scheduled(),
            JobSet::Retry => queue.retry(),
            JobSet::Dead => queue.dead(),
            JobSet::Waiting => queue.waiting(),
        }
    }

    /// Every set.
    pub const ALL: [JobSet; 4] = [
        JobSet::Scheduled,
        JobSet::Retry,
        JobSet::Dead,
        JobSet::Waiting,
    ];
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting in the ready list (or priority set).
    Ready,
    /// Scheduled for later.
    Scheduled,
    /// Waiting for a retry.
    Retry,
    /// Dead.
    Dead,
    /// Leased by a worker (running, or fetched and about to run).
    Active,
    /// Cancelled by an operator; will not run.
    Cancelled,
    /// Not started before its expiry; will not run.
    Expired,
    /// Waiting for its parents to succeed.
    Waiting,
}

impl JobState {
    /// The state's name as the JSON API and the UI spell it (`"retry"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Ready => "ready",
            JobState::Scheduled => "scheduled",
            JobState::Retry => "retry",
            JobState::Dead => "dead",
            JobState::Active => "active",
            JobState::Cancelled => "cancelled",
            JobState::Expired => "expired",
            JobState::Waiting => "waiting",
        }
    }
}

impl From<JobSet> for JobState {
    fn from(set: JobSet) -> Self {
        match set {
            JobSet::Scheduled => JobState::Scheduled,
            JobSet::Retry => JobState::Retry,
            JobSet::Dead => JobState::Dead,
            JobSet::Waiting => JobState::Waiting,
        }
    }
}

/// One job as an operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobInfo {
    /// The job id (nil when the record is too damaged to carry one).
    pub id: Uuid,
    /// Its queue.
    pub queue: String,
    /// Its state.
    pub state: JobState,
    /// The job type, or `None` when the record could not be decoded.
    pub job_type: Option<String>,
    /// Attempts made so far.
    pub attempt: u32,
    /// Per-job attempt limit, when set.
    pub max_attempts: Option<u32>,
    /// Priority within the queue.
    pub priority: i16,
    /// Its flow key, when keyed (see [`crate::admin::keys`]).
    pub flow_key: Option<String>,
    /// When it was enqueued.
    pub enqueued_at: Option<DateTime<Utc>>,
    /// The sorted-set score as a time: run-at, retry-at or died-at.
    pub at: Option<DateTime<Utc>>,
    /// Error history, oldest first.
    pub errors: Vec<ErrorEntry>,
    /// The payload as text (lossy UTF-8 for damaged records).
    pub payload: String,
    /// Why the record could not be decoded, when it could not.
    pub decode_error: Option<String>,
    /// Parents the job waits (or waited) for; empty for most jobs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<ParentRef>,
    /// What a parent's death does to it, when it has parents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_parent_failure: Option<OnParentFailure>,
    /// True for a job enqueued with dependents (it may be a parent).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dependents: bool,
}

impl JobInfo {
    /// Builds the view of one stored record.
    pub fn from_record(queue: &str, state: JobState, record: &[u8], at_ms: Option<i64>) -> Self {
        let at = at_ms.and_then(millis_to_datetime);
        match decode_record(record) {
            Ok((envelope, payload)) => Self {
                id: envelope.id,
                queue: queue.to_owned(),
                state,
                enqueued_at: uuid_v7_millis(&envelope.id).and_then(millis_to_datetime),
                job_type: Some(envelope.job_type),
                attempt: envelope.attempt,
                max_attempts: envelope.max_attempts,
                priority: envelope.priority,
                flow_key: envelope.flow,
                at,
                errors: envelope.errors,
                payload: String::from_utf8_lossy(payload).into_owned(),
                decode_error: None,
                on_parent_failure: (!envelope.after.is_empty())
                    .then(|| envelope.on_parent_failure.unwrap_or_default()),
                after: envelope.after,
                dependents: envelope.dependents,
            },
            Err(err) => {
                let id = record_id_bytes(record)
                    .and_then(|bytes| std::str::from_utf8(bytes).ok())
                    .and_then(|text| text.parse().ok())
                    .unwrap_or(Uuid::nil());
                let payload = split_record(record).map_or(record, |(_, payload)| payload);
                Self {
                    id,
                    queue: queue.to_owned(),
                    state,
                    job_type: None,
                    attempt: 0,
                    max_attempts: None,
                    priority: 0,
                    flow_key: None,
                    enqueued_at: uuid_v7_millis(&id).and_then(millis_to_datetime),
                    at,
                    errors: Vec::new(),
                    payload: String::from_utf8_lossy(payload).into_owned(),
                    decode_error: Some(err.to_string()),
                    after: Vec::new(),
                    on_parent_failure: None,
                    dependents: false,
                }
            }
        }
    }
}

/// Sizes and counters of one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueInfo {
    /// Queue name.
    pub name: String,
    /// Jobs ready to run (ready list plus priority set).
    pub ready: u64,
    /// Keyed jobs waiting in their flow keys' lists (see [`crate::admin::keys`]).
    pub keyed: u64,
    /// Scheduled jobs.
    pub scheduled: u64,
    /// Jobs waiting for a retry.
    pub retry: u64,
    /// Dead jobs.
    pub dead: u64,
    /// Jobs waiting for their parents.
    pub waiting: u64,
    /// Jobs leased by workers.
    pub active: u64,
    /// Cancelled jobs kept in the queue's cancelled set (bounded).
    pub cancelled: u64,
    /// Expired jobs kept in the queue's expired set (bounded).
    pub expired: u64,
    /// Age of the oldest ready job, ms (0 when none is ready).
    pub latency_ms: u64,
    /// True while paused.
    pub paused: bool,
    /// Jobs that succeeded, all time (counted by the script that
    /// acknowledged them).
    pub processed: u64,
    /// Failed attempts, all time: attempts that failed and will be retried,
    /// and jobs buried in the dead set (counted by `retry.lua` and
    /// `bury.lua`; snoozes are not failures).
    pub failed: u64,
    /// Dead jobs trimmed by the dead-set limits, all time.
    pub dead_trimmed: u64,
    /// Jobs put back after their worker's lease lapsed, all time.
    pub reclaimed: u64,
}

/// Totals over all queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Jobs that succeeded, all time.
    pub processed: u64,
    /// Failed attempts, all time.
    pub failed: u64,
}

/// Inspects and repairs queues. Get one from [`crate::Client::admin`].
#[derive(Debug, Clone)]
pub struct Admin {
    store: Store,
    audit_capacity: usize,
}

impl Admin {
    /// An operator API over `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            audit_capacity: AUDIT_LOG_CAPACITY,
        }
    }

    /// Keeps about `entries` entries in the audit log instead of
    /// [`AUDIT_LOG_CAPACITY`] (at least 100). Every writer trims the log
    /// to its own capacity, so give every process that writes it (the
    /// dashboard, the CLI, your own code) the same value.
    #[must_use]
    pub fn with_audit_capacity(mut self, entries: usize) -> Self {
        self.audit_capacity = entries.max(100);
        self
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Names of all known queues (names in the registry that are not
    /// valid queue names are skipped, see [`Admin::queue_registry`]).
    pub async fn queue_names(&self) -> Result<Vec<String>, Error> {
        self.store.queue_names().await
    }

    /// The keys of every known queue.
    async fn queue_keys_all(&self) -> Result<Vec<QueueKeys>, Error> {
        self.store
            .queue_names()
            .await?
            .iter()
            .map(|name| self.store.queue_keys(name))
            .collect()
    }

    /// The queue registry: valid names and the invalid ones that listings
    /// skip (written there by a producer that does not check names).
    pub async fn queue_registry(&self) -> Result<QueueRegistry, Error> {
        self.store.queue_registry().await
    }

    /// Every known queue with its sizes and counters.
    pub async fn queues(&self) -> Result<Vec<QueueInfo>, Error> {
        self.queue_infos(&self.store.queue_names().await?).await
    }

    /// Sizes and counters of each queue of `names`, in that order.
    pub async fn queue_infos(&self, names: &[String]) -> Result<Vec<QueueInfo>, Error> {
        let mut infos = Vec::with_capacity(names.len());
        for name in names {
            infos.push(self.queue(name).await?);
        }
        Ok(infos)
    }

    /// Sizes and counters of one queue.
    pub async fn queue(&self, name: &str) -> Result<QueueInfo, Error> {
        const OP: &str = "queue_info";
        let q = self.store.queue_keys(name)?;
        let mut conn = self.store.connection();
        let (
            ready,
            prioritised,
            scheduled,
            retry,
            dead,
            cancelled,
            expired,
            (paused, keyed),
            head,
            stats,
            leases,
            now,
        ): QueueSnapshot = redis::pipe()
            .llen(q.ready())
            .zcard(q.priority())
            .zcard(q.scheduled())
            .zcard(q.retry())
            .zcard(q.dead())
            .zcard(q.cancelled())
            .zcard(q.expired())
            // One reply for both (a tuple reply holds at most 12 members).
            .cmd("MGET")
            .arg(q.paused())
            .arg(q.flow_waiting())
            .lindex(q.ready(), 0)
            .hgetall(q.stats())
            .zrange(q.leases(), 0, (MAX_PAGE_SIZE - 1) as isize)
            .cmd("TIME")
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        // The waiting-for-parents count rides along with the active counts
        // (the first pipeline's reply tuple is full).
        let mut second = redis::pipe();
        second.zcard(q.waiting());
        for worker in &leases {
            second.hlen(q.active(worker));
        }
        let counts: Vec<u64> = second
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        let (waiting, active) = match counts.split_first() {
            Some((waiting, active)) => (*waiting, active),
            None => return Err(Error::protocol(OP, "queue info reply is empty")),
        };
        let now_ms = now.0 * 1000 + now.1 / 1000;
        let latency_ms = head
            .as_deref()
            .and_then(record_ready_ms)
            .map_or(0, |ready_ms| u64::try_from(now_ms - ready_ms).unwrap_or(0));
        let counter = |field: &str| stats.get(field).copied().unwrap_or(0);
        Ok(QueueInfo {
            name: name.to_owned(),
            ready: ready + prioritised,
            keyed: keyed.unwrap_or(0),
            scheduled,
            retry,
            dead,
            waiting,
            active: active.iter().sum(),
            cancelled,
            expired,
            latency_ms,
            paused: paused.is_some(),
            processed: counter("processed"),
            failed: counter("failed"),
            dead_trimmed: counter("dead_trimmed"),
            reclaimed: counter("reclaimed"),
        })
    }

    /// Processed and failed totals over all queues: the sum of the
    /// queues' counters (the scripts that end jobs count them per queue,
    /// in the queue's hash slot), read in one pipelined round trip of one
    /// HMGET per queue.
    pub async fn totals(&self) -> Result<Totals, Error> {
        let queues = self.queue_keys_all().await?;
        let stats_keys: Vec<String> = queues.iter().map(|q| q.stats().to_owned()).collect();
        let sums = history::sum_counts(&self.store, &[stats_keys], "totals").await?;
        let (processed, failed) = sums.first().copied().unwrap_or((0, 0));
        Ok(Totals { processed, failed })
    }

    /// One page of a waiting set: scheduled and retry jobs soonest first,
    /// dead jobs most recent first.
    pub async fn list(
        &self,
        queue: &str,
        set: JobSet,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        let q = self.store.queue_keys(queue)?;
        let slots = self.list_slots(&q, set, offset, limit).await?;
        // A slot is empty when its record vanished between the two reads.
        Ok(slots.into_iter().flatten().collect())
    }

    /// One page of the ready jobs, in the order they will run (ready list;
    /// prioritised jobs are listed by [`Admin::list_prioritised`]).
    pub async fn list_ready(
        &self,
        queue: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        let q = self.store.queue_keys(queue)?;
        self.list_ready_range(queue, "LRANGE", q.ready(), offset, limit, "list_ready")
            .await
    }

    /// One page of the prioritised ready jobs, in the order they will run.
    pub async fn list_prioritised(
        &self,
        queue: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        let q = self.store.queue_keys(queue)?;
        self.list_ready_range(
            queue,
            "ZRANGE",
            q.priority(),
            offset,
            limit,
            "list_prioritised",
        )
        .await
    }

    /// Records `offset..offset + limit` of a ready structure (`LRANGE` of
    /// the list, `ZRANGE` of the priority set), as ready jobs.
    async fn list_ready_range(
        &self,
        queue: &str,
        command: &str,
        key: &str,
        offset: usize,
        limit: usize,
        op: &'static str,
    ) -> Result<Vec<JobInfo>, Error> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let records: Vec<Vec<u8>> = redis::cmd(command)
            .arg(key)
            .arg(offset)
            .arg(offset + limit - 1)
            .query_async(&mut self.store.connection())
            .await
            .map_err(Error::redis(op))?;
        Ok(records
            .iter()
            .map(|r| JobInfo::from_record(queue, JobState::Ready, r, None))
            .collect())
    }

    /// Jobs leased by workers on `queue` (running or about to run).
    pub async fn list_active(&self, queue: &str, limit: usize) -> Result<Vec<JobInfo>, Error> {
        const OP: &str = "list_active";
        let q = self.store.queue_keys(queue)?;
        let mut conn = self.store.connection();
        let workers: Vec<String> = redis::cmd("ZRANGE")
            .arg(q.leases())
            .arg(0)
            .arg(MAX_PAGE_SIZE - 1)
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let mut out = Vec::new();
        for worker in workers {
            if out.len() >= limit {
                break;
            }
            let records: Vec<Vec<u8>> = redis::cmd("HVALS")
                .arg(q.active(&worker))
                .query_async(&mut conn)
                .await
                .map_err(Error::redis(OP))?;
            out.extend(
                records
                    .iter()
                    .take(limit - out.len())
                    .map(|r| JobInfo::from_record(queue, JobState::Active, r, None)),
            );
        }
        Ok(out)
    }

    /// A scheduled, retrying, dead, waiting-for-parents, cancelled or
    /// expired job, or a keyed job waiting in its flow key's list, by id;
    /// `None` otherwise (ready, running, finished or unknown).
    pub async fn job(&self, queue: &str, id: Uuid) -> Result<Option<JobInfo>, Error> {
        let q = self.store.queue_keys(queue)?;
        let id_text = id.to_string();
        let (record, scheduled, retry, dead, waiting, cancelled, expired): JobLookup =
            redis::pipe()
                .hget(q.jobs(), &id_text)
                .zscore(q.scheduled(), &id_text)
                .zscore(q.retry(), &id_text)
                .zscore(q.dead(), &id_text)
                .zscore(q.waiting(), &id_text)
                .zscore(q.cancelled(), &id_text)
                .zscore(q.expired(), &id_text)
                .query_async(&mut self.store.connection())
                .await
                .map_err(Error::redis("job"))?;
        let Some(record) = record else {
            return Ok(None);
        };
        let found = [
            (JobState::Scheduled, scheduled),
            (JobState::Retry, retry),
            (JobState::Dead, dead),
            (JobState::Waiting, waiting),
            (JobState::Cancelled, cancelled),
            (JobState::Expired, expired),
        ]
        .into_iter()
        .find_map(|(state, score)| score.map(|score| (state, score)));
        let Some((state, score)) = found else {
            // A keyed job waiting in its flow key's list?
            let Some(key) = crate::wire::record::record_flow_key(&record) else {
                return Ok(None);
            };
            let position: Option<u64> = redis::cmd("LPOS")
                .arg(q.flow_list(key))
                .arg(&id_text)
                .query_async(&mut self.store.connection())
                .await
                .map_err(Error::redis("job"))?;
            if position.is_none() {
                return Ok(None);
            }
            return Ok(Some(JobInfo::from_record(
                queue,
                JobState::Ready,
                &record,
                None,
            )));
        };
        Ok(Some(JobInfo::from_record(
            queue,
            state,
            &record,
            Some(score as i64),
        )))
    }

    /// Makes jobs of a waiting set ready now. Dead jobs get a fresh set of
    /// attempts. Returns how many moved.
    pub async fn retry(&self, queue: &str, set: JobSet, ids: &[Uuid]) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        self.apply_to_ids(&q, set, ids, |chunk| {
            let q = &q;
            async move {
                self.store
                    .requeue(q, set.key(q), &chunk, set == JobSet::Dead)
                    .await
            }
        })
        .await
    }

    /// Makes every job of a waiting set ready now, in batches. Returns how many moved.
    pub async fn retry_all(&self, queue: &str, set: JobSet) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        self.drain_set(&q, set, |ids| {
            let q = &q;
            async move {
                self.store
                    .requeue(q, set.key(q), &ids, set == JobSet::Dead)
                    .await
            }
        })
        .await
    }

    /// Deletes jobs from a waiting set. Returns how many were deleted.
    pub async fn delete(&self, queue: &str, set: JobSet, ids: &[Uuid]) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        self.apply_to_ids(&q, set, ids, |chunk| {
            let q = &q;
            async move { self.store.delete_jobs(q, set.key(q), &chunk).await }
        })
        .await
    }

    /// Deletes every job of a waiting set, in batches. Returns how many.
    pub async fn delete_all(&self, queue: &str, set: JobSet) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        self.drain_set(&q, set, |ids| {
            let q = &q;
            async move { self.store.delete_jobs(q, set.key(q), &ids).await }
        })
        .await
    }

    /// Drops every ready job of `queue`, keyed jobs waiting in their flow
    /// keys' lists included (in batches of 1000). Returns how many.
    pub async fn purge(&self, queue: &str) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        let mut dropped = self.store.purge(&q).await?;
        loop {
            let (keyed, more) = self.store.purge_keyed(&q, BULK_BATCH).await?;
            dropped += keyed;
            if !more {
                return Ok(dropped);
            }
        }
    }

    /// Pauses `queue`: workers stop fetching from it within a second
    /// (in-flight jobs finish). Producers can still enqueue. Returns false
    /// when it was paused already (nothing changed).
    pub async fn pause(&self, queue: &str) -> Result<bool, Error> {
        let q = self.store.queue_keys(queue)?;
        let (newly_set,): (Option<String>,) = redis::pipe()
            .cmd("SET")
            .arg(q.paused())
            .arg(1)
            .arg("NX")
            .publish(q.events(), "p")
            .ignore()
            .query_async(&mut self.store.connection())
            .await
            .map_err(Error::redis("pause"))?;
        self.store.register_queues([queue]).await?;
        Ok(newly_set.is_some())
    }

    /// Resumes a paused queue. Returns false when it was not paused
    /// (nothing changed).
    pub async fn resume(&self, queue: &str) -> Result<bool, Error> {
        let q = self.store.queue_keys(queue)?;
        let (removed,): (u64,) = redis::pipe()
            .del(q.paused())
            .publish(q.events(), "u")
            .ignore()
            .query_async(&mut self.store.connection())
            .await
            .map_err(Error::redis("resume"))?;
        Ok(removed > 0)
    }

    /// Live worker processes (those that beat within their lease).
    pub async fn workers(&self) -> Result<Vec<WorkerInfo>, Error> {
        const OP: &str = "workers";
        let keys = self.store.keys();
        let mut conn = self.store.connection();
        let ids: Vec<String> = redis::cmd("ZREVRANGE")
            .arg(keys.workers())
            .arg(0)
            .arg(MAX_PAGE_SIZE - 1)
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(keys.worker(id));
        }
        let hashes: Vec<HashMap<String, String>> = pipe
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        Ok(hashes.iter().filter_map(WorkerInfo::from_fields).collect())
    }

    /// Runs `action` on `ids` of `set` in batches (the job-set counterpart
    /// of [`Admin::drain_set`]); jobs that leave the waiting set lose
    /// their dependency records too. Returns the sum of what it counted.
    async fn apply_to_ids<F, Fut>(
        &self,
        q: &QueueKeys,
        set: JobSet,
        ids: &[Uuid],
        mut action: F,
    ) -> Result<u64, Error>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<u64, Error>>,
    {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let mut total = 0;
        for chunk in ids.chunks(BULK_BATCH) {
            total += action(chunk.to_vec()).await?;
            self.forget_dependencies(q, set, chunk).await?;
        }
        Ok(total)
    }

    /// Applies `action` to the set in batches of ids until it is empty, or
    /// until as many batches as the set had at the start have run (so a set
    /// that keeps filling up cannot keep the call going forever).
    async fn drain_set<F, Fut>(
        &self,
        q: &QueueKeys,
        set: JobSet,
        mut action: F,
    ) -> Result<u64, Error>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<u64, Error>>,
    {
        let mut conn = self.store.connection();
        let size: u64 = redis::cmd("ZCARD")
            .arg(set.key(q))
            .query_async(&mut conn)
            .await
            .map_err(Error::redis("bulk_action"))?;
        let mut total = 0;
        let max_rounds = size / BULK_BATCH as u64 + 2;
        for _ in 0..max_rounds {
            let ids: Vec<String> = redis::cmd("ZRANGE")
                .arg(set.key(q))
                .arg(0)
                .arg(BULK_BATCH - 1)
                .query_async(&mut conn)
                .await
                .map_err(Error::redis("bulk_action"))?;
            if ids.is_empty() {
                break;
            }
            let done = action(ids.clone()).await?;
            self.forget_dependencies(q, set, &ids).await?;
            total += done;
        }
        Ok(total)
    }
}

/// Reply of the queue-info pipeline: list and set sizes (ready, priority,
/// scheduled, retry, dead, cancelled, expired), the paused flag with the
/// count of keyed jobs waiting, head of the ready list, counters, lease
/// holders and the Redis clock.
type QueueSnapshot = (
    u64,
    u64,
    u64,
    u64,
    u64,
    u64,
    u64,
    (Option<String>, Option<u64>),
    Option<Vec<u8>>,
    HashMap<String, u64>,
    Vec<String>,
    (i64, i64),
);

/// A job's record and its score in the scheduled, retry, dead,
/// waiting-for-parents, cancelled and expired sets.
type JobLookup = (
    Option<Vec<u8>>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

/// When a stored ready record became ready: its run_at, else its id's time.
fn record_ready_ms(record: &[u8]) -> Option<i64> {
    let (envelope, _) = split_record(record)?;
    let text = std::str::from_utf8(envelope).ok()?;
    if let Some(pos) = text.find(",\"run_at\":") {
        let digits: String = text[pos + 10..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        return digits.parse().ok();
    }
    let id: Uuid = std::str::from_utf8(record_id_bytes(record)?)
        .ok()?
        .parse()
        .ok()?;
    uuid_v7_millis(&id)
}

/// Milliseconds since the epoch as a UTC time.
pub fn millis_to_datetime(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}
