//! Jobs as the operator sees them: the places a job can be ([`JobSet`],
//! [`JobState`]), one job's view ([`JobInfo`]), plain listings of each
//! place, and a job by id.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::wire::payload_codec::{PayloadCodec, PayloadCodecError, PayloadEncoding};

use crate::admin::handle::{Admin, MAX_PAGE_SIZE};
use crate::error::Error;
use crate::job::dependencies::{OnParentFailure, ParentRef};
use crate::store::keys::QueueKeys;
use crate::wire::record::{
    ErrorEntry, decode_record, record_flow_key, record_id_bytes, split_record, uuid_v7_millis,
};

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
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub enqueued_at: Option<DateTime<Utc>>,
    /// The sorted-set score as a time: run-at, retry-at or died-at.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub at: Option<DateTime<Utc>>,
    /// Error history, oldest first.
    #[serde(serialize_with = "crate::json_time::error_entries")]
    pub errors: Vec<ErrorEntry>,
    /// The payload as text (lossy UTF-8 for damaged records); a compressed
    /// payload decompressed; an encrypted one a placeholder such as
    /// `encrypted (key k1)` until [`JobInfo::reveal_payload`] decrypts it.
    pub payload: String,
    /// The envelope's `enc` (how the payload is stored), when encoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_encoding: Option<String>,
    /// True when `payload` is a placeholder, not the payload (encrypted and
    /// not revealed, or an encoding that could not be read).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub payload_redacted: bool,
    /// The stored payload of a redacted one, for [`JobInfo::reveal_payload`].
    #[serde(skip)]
    stored_payload: Option<Vec<u8>>,
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
    /// The workflow it is a node of, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<crate::wire::workflow_ref::WorkflowRef>,
    /// The batch it belongs to (on its queue), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<Uuid>,
    /// Its tags ([`crate::JobBuilder::tags`]); empty for most jobs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl JobInfo {
    /// Builds the view of one stored record.
    pub fn from_record(queue: &str, state: JobState, record: &[u8], at_ms: Option<i64>) -> Self {
        let at = at_ms.and_then(millis_to_datetime);
        match decode_record(record) {
            Ok((envelope, payload)) => {
                let shown = ShownPayload::of(&envelope, payload);
                Self {
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
                    payload: shown.text,
                    payload_encoding: envelope.enc,
                    payload_redacted: shown.stored.is_some(),
                    stored_payload: shown.stored,
                    decode_error: None,
                    on_parent_failure: (!envelope.after.is_empty())
                        .then(|| envelope.on_parent_failure.unwrap_or_default()),
                    after: envelope.after,
                    dependents: envelope.dependents,
                    workflow: envelope.workflow,
                    batch: envelope.batch,
                    tags: envelope.tags,
                }
            }
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
                    payload_encoding: None,
                    payload_redacted: false,
                    stored_payload: None,
                    decode_error: Some(err.to_string()),
                    after: Vec::new(),
                    on_parent_failure: None,
                    dependents: false,
                    workflow: None,
                    batch: None,
                    tags: Vec::new(),
                }
            }
        }
    }
}

impl JobInfo {
    /// Decrypts a redacted payload with `codec`'s keys: on success the
    /// payload is shown and `payload_redacted` cleared; otherwise it stays
    /// redacted and the reason is returned. A no-op for shown payloads.
    /// Call it only for viewers allowed to read payloads (the dashboard
    /// asks for a role, see docs/payload-encoding.md).
    pub fn reveal_payload(&mut self, codec: &PayloadCodec) -> Result<(), PayloadCodecError> {
        let (Some(stored), Some(job_type)) = (&self.stored_payload, &self.job_type) else {
            return Ok(());
        };
        let plain = codec.decode(job_type, self.payload_encoding.as_deref(), stored)?;
        self.payload = String::from_utf8_lossy(&plain).into_owned();
        self.payload_redacted = false;
        self.stored_payload = None;
        Ok(())
    }
}

/// What an operator view shows of a payload: the text, and the stored
/// bytes when the text is a placeholder (an encrypted payload).
struct ShownPayload {
    text: String,
    stored: Option<Vec<u8>>,
}

impl ShownPayload {
    /// Plain payloads as text, compressed ones decompressed (no key
    /// needed), encrypted ones as `encrypted (key k1)`.
    fn of(envelope: &crate::wire::record::Envelope, payload: &[u8]) -> Self {
        let Some(enc) = envelope.enc.as_deref() else {
            return Self {
                text: String::from_utf8_lossy(payload).into_owned(),
                stored: None,
            };
        };
        let placeholder = match PayloadEncoding::parse(enc) {
            Ok(parsed) if parsed.key_id.is_some() => parsed.describe(),
            _ => match PayloadCodec::plain().decode(&envelope.job_type, Some(enc), payload) {
                Ok(plain) => {
                    return Self {
                        text: String::from_utf8_lossy(&plain).into_owned(),
                        stored: None,
                    };
                }
                Err(err) => format!("{enc} (cannot be shown: {err})"),
            },
        };
        Self {
            text: placeholder,
            stored: Some(payload.to_vec()),
        }
    }
}

impl Admin {
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
        self.list_ready_range(queue, false, offset, limit).await
    }

    /// One page of the prioritised ready jobs, in the order they will run.
    pub async fn list_prioritised(
        &self,
        queue: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        self.list_ready_range(queue, true, offset, limit).await
    }

    /// Records `offset..offset + limit` of the ready list (or the priority
    /// set, with `prioritised`), as ready jobs.
    async fn list_ready_range(
        &self,
        queue: &str,
        prioritised: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        let q = self.store.queue_keys(queue)?;
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let records = self
            .store
            .ready_records(&q, prioritised, offset, limit)
            .await?;
        Ok(records
            .iter()
            .map(|r| JobInfo::from_record(queue, JobState::Ready, r, None))
            .collect())
    }

    /// Jobs leased by workers on `queue` (running or about to run).
    pub async fn list_active(&self, queue: &str, limit: usize) -> Result<Vec<JobInfo>, Error> {
        let q = self.store.queue_keys(queue)?;
        let workers = self.store.leasing_workers(&q, MAX_PAGE_SIZE).await?;
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let mut out = Vec::new();
        for worker in workers {
            if out.len() >= limit {
                break;
            }
            let records = self.store.leased_records(&q, &worker).await?;
            out.extend(
                records
                    .iter()
                    .take(limit - out.len())
                    .map(|r| JobInfo::from_record(queue, JobState::Active, r, None)),
            );
        }
        Ok(out)
    }

    /// Job `id` if a worker holds it leased (running): state `Active`.
    async fn leased_job(
        &self,
        queue: &str,
        q: &QueueKeys,
        id: &str,
    ) -> Result<Option<JobInfo>, Error> {
        let record = self.store.leased_record(q, id).await?;
        Ok(record.map(|record| JobInfo::from_record(queue, JobState::Active, &record, None)))
    }

    /// A scheduled, retrying, dead, waiting-for-parents, cancelled or
    /// expired job, or a keyed job waiting in its flow key's list, by id;
    /// `None` otherwise (ready, running, finished or unknown).
    pub async fn job(&self, queue: &str, id: Uuid) -> Result<Option<JobInfo>, Error> {
        let q = self.store.queue_keys(queue)?;
        let id_text = id.to_string();
        let found = self.store.job_lookup(&q, &id_text).await?;
        let Some(record) = found.record else {
            return self.leased_job(queue, &q, &id_text).await;
        };
        let filed = [
            (JobState::Scheduled, found.scheduled),
            (JobState::Retry, found.retry),
            (JobState::Dead, found.dead),
            (JobState::Waiting, found.waiting),
            (JobState::Cancelled, found.cancelled),
            (JobState::Expired, found.expired),
        ]
        .into_iter()
        .find_map(|(state, score)| score.map(|score| (state, score)));
        if let Some((state, score)) = filed {
            return Ok(Some(JobInfo::from_record(
                queue,
                state,
                &record,
                Some(score as i64),
            )));
        }
        // A keyed job waiting in its flow key's list?
        let Some(key) = record_flow_key(&record) else {
            return self.leased_job(queue, &q, &id_text).await;
        };
        if !self.store.waits_in_flow_list(&q, key, &id_text).await? {
            return self.leased_job(queue, &q, &id_text).await;
        }
        Ok(Some(JobInfo::from_record(
            queue,
            JobState::Ready,
            &record,
            None,
        )))
    }

    /// A scheduled, retrying, dead, waiting-for-parents, cancelled or
    /// expired job (or a keyed job waiting in its key's list) by id, looked
    /// up in every known queue (one pipelined lookup per queue: O(number of
    /// queues)). Ready and running jobs are not indexed by id and are not
    /// found here.
    pub async fn find_job(&self, id: Uuid) -> Result<Option<JobInfo>, Error> {
        for queue in self.store.queue_names().await? {
            if let Some(job) = self.job(&queue, id).await? {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }
}

/// Milliseconds since the epoch as a UTC time.
pub fn millis_to_datetime(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}
