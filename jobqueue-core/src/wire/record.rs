//! The wire format: how one job is stored in Redis.
//!
//! A *record* is two JSON documents separated by one newline:
//!
//! ```text
//! {"id":"0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9d","type":"send_email","attempt":1}\n{"user_id":7}
//! └──────────────────────────── envelope (header) ──────────────────────────┘  └─ payload ─┘
//! ```
//!
//! * The **envelope** is a compact JSON object whose first member is always
//!   `"id"` with a hyphenated UUID v7, so the Lua scripts read a job's id
//!   with one `string.sub(record, 8, 43)` and never parse JSON on the hot
//!   path. Optional members are omitted when they hold their default, which
//!   keeps a waiting job small in Redis (BENCH.md w5).
//! * The **payload** is the job struct serialized by `serde_json`. It is
//!   stored verbatim and parsed only by the worker that runs the job; a
//!   payload that does not parse is dead-lettered with the reason.
//!
//! Serialized JSON never contains a raw newline, so the first `\n` always
//! ends the envelope. `docs/protocol.md` documents this format for other
//! languages; `docs/envelope.schema.json` is its JSON Schema.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::job::backoff::BackoffPolicy;
use crate::job::dependencies::{OnParentFailure, ParentRef};

/// Most error entries kept in a job's history (the oldest are dropped).
pub const MAX_ERROR_HISTORY: usize = 10;

/// Longest error message kept, in bytes (longer ones are cut at a char boundary).
pub const MAX_ERROR_MESSAGE_BYTES: usize = 2048;

/// The envelope: everything about a job except its payload.
///
/// Field order matters: `id` must stay first (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Job id, a UUID v7: its timestamp is the enqueue time.
    pub id: Uuid,
    /// The job type name, which routes the job to its handler.
    #[serde(rename = "type")]
    pub job_type: String,
    /// Attempts already made (finished with an error, or lost with a worker).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub attempt: u32,
    /// Most attempts before the job is dead; `None` means the job type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Priority within the queue; higher runs first. Omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero_i16")]
    pub priority: i16,
    /// Per-run time limit in milliseconds; `None` means the job type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Per-job backoff policy; `None` means the job type's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<BackoffPolicy>,
    /// When the job became (or becomes) due, ms since the epoch on the Redis
    /// clock. Written by the scheduling scripts, never by producers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_at: Option<i64>,
    /// Version of the payload's shape, for upcasting old payloads.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub version: u32,
    /// W3C `traceparent` of the producer's span, when one was active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// Errors of earlier attempts, oldest first, at most [`MAX_ERROR_HISTORY`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorEntry>,
    /// Name of the cron entry that enqueued this job, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// Digest of the uniqueness key whose lock this job holds, if unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<String>,
    /// Not started by then (ms since the epoch) → dropped as expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Keep a status (final state, result) for this job even if it
    /// reports none, for `Client::wait_result`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub track: bool,
    /// The job may have dependents (jobs enqueued with `after` it): its
    /// end is recorded for them. Ordinary jobs omit it and pay nothing.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dependents: bool,
    /// Parents this job waits for: it runs after all of them succeeded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<ParentRef>,
    /// What a parent's death does to this job (with `after`); `None` is
    /// the default, [`OnParentFailure::DeadLetter`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_parent_failure: Option<OnParentFailure>,
    /// Flow key (`class:value`, e.g. `account:42`): the job waits in its
    /// key's list and runs within the key class's limits (see
    /// `jobqueue_core::admin::keys`). Plain printable ASCII without `"` or `\`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    /// The workflow this job is a node of, and the node's name
    /// ([`crate::Client::workflow`]); plain jobs omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<crate::wire::workflow_ref::WorkflowRef>,
    /// The batch this job belongs to (its hash is on the job's queue):
    /// its end is counted in the batch by the batch-aware scripts.
    /// Ordinary jobs omit it and pay nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Uuid>,
    /// Tags (`customer:4711`), at most 8 of at most 64 bytes each
    /// ([`crate::job::tags`]); indexed per queue by the enqueue scripts.
    /// Untagged jobs omit it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// How the payload is encoded (`zstd`, `xchacha20poly1305:<key id>`,
    /// `zstd+xchacha20poly1305:<key id>`), see
    /// [`crate::wire::payload_codec`]; plain payloads omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc: Option<String>,
    /// The content digest of an encrypted payload (a keyed digest of the
    /// job's type and plain payload, hex): what the enqueue scripts compare
    /// for given ids and idempotency keys instead of the SHA-1 of the stored
    /// payload, which differs at every encryption. Other records omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl Envelope {
    /// A fresh envelope for a new job of `job_type`, with a new UUID v7 id.
    pub fn new(job_type: impl Into<String>) -> Self {
        Self {
            id: Uuid::now_v7(),
            job_type: job_type.into(),
            attempt: 0,
            max_attempts: None,
            priority: 0,
            timeout_ms: None,
            backoff: None,
            run_at: None,
            version: 0,
            traceparent: None,
            errors: Vec::new(),
            cron: None,
            unique: None,
            expires_at: None,
            track: false,
            dependents: false,
            after: Vec::new(),
            on_parent_failure: None,
            flow: None,
            workflow: None,
            batch: None,
            tags: Vec::new(),
            enc: None,
            digest: None,
        }
    }

    /// When the job was first enqueued, from the UUID v7 timestamp (ms).
    pub fn enqueued_at_ms(&self) -> i64 {
        uuid_v7_millis(&self.id).unwrap_or(0)
    }

    /// Appends an error to the history, keeping at most [`MAX_ERROR_HISTORY`].
    pub fn push_error(&mut self, entry: ErrorEntry) {
        self.errors.push(entry);
        if self.errors.len() > MAX_ERROR_HISTORY {
            let excess = self.errors.len() - MAX_ERROR_HISTORY;
            self.errors.drain(..excess);
        }
    }
}

/// The envelope fields a worker needs to run a job, borrowed from the
/// record: decoding only these (and skipping the error history) keeps the
/// hot path cheap. The full [`Envelope`] is decoded only when a run fails.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnvelopeHead<'a> {
    /// Job id.
    pub id: Uuid,
    /// Job type name.
    #[serde(rename = "type", borrow)]
    pub job_type: std::borrow::Cow<'a, str>,
    /// Attempts already made.
    #[serde(default)]
    pub attempt: u32,
    /// Per-job attempt limit.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Per-job time limit, ms (0 = none).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Payload version.
    #[serde(default)]
    pub version: u32,
    /// Producer's trace context.
    #[serde(default, borrow)]
    pub traceparent: Option<std::borrow::Cow<'a, str>>,
    /// The cron entry that enqueued the job, if one did.
    #[serde(default, borrow)]
    pub cron: Option<std::borrow::Cow<'a, str>>,
    /// Digest of the uniqueness key the job holds, if unique.
    #[serde(default, borrow)]
    pub unique: Option<std::borrow::Cow<'a, str>>,
    /// When the job expires if not started (ms since the epoch).
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Keep a status for this job.
    #[serde(default)]
    pub track: bool,
    /// The job may have dependents: its end is recorded for them.
    #[serde(default)]
    pub dependents: bool,
    /// The job's flow key, if keyed.
    #[serde(default, borrow)]
    pub flow: Option<std::borrow::Cow<'a, str>>,
    /// The parents the job waited for (empty, and unallocated, for most
    /// jobs): their results are readable by the job.
    #[serde(default)]
    pub after: Vec<ParentRef>,
    /// The batch the job belongs to, if any.
    #[serde(default)]
    pub batch: Option<Uuid>,
    /// How the payload is encoded, when it is (see [`Envelope::enc`]).
    #[serde(default, borrow)]
    pub enc: Option<std::borrow::Cow<'a, str>>,
}

/// Decodes the head of a record's envelope; returns it with the payload bytes.
pub fn decode_head(record: &[u8]) -> Result<(EnvelopeHead<'_>, &[u8]), Error> {
    let (header, payload) = split_record(record).ok_or_else(|| Error::Decode {
        op: "decode_record",
        message: "no newline between envelope and payload".to_owned(),
    })?;
    let head: EnvelopeHead<'_> = serde_json::from_slice(header).map_err(|e| Error::Decode {
        op: "decode_record",
        message: format!("envelope is not valid: {e}"),
    })?;
    Ok((head, payload))
}

/// One failed attempt in a job's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEntry {
    /// Which attempt failed (1 = the first run).
    pub attempt: u32,
    /// When it failed, ms since the epoch.
    pub at: i64,
    /// What kind of failure it was.
    pub kind: FailureKind,
    /// The error message (cut to [`MAX_ERROR_MESSAGE_BYTES`]).
    pub message: String,
}

impl ErrorEntry {
    /// An entry with the message cut to [`MAX_ERROR_MESSAGE_BYTES`].
    pub fn new(attempt: u32, at: i64, kind: FailureKind, message: &str) -> Self {
        Self {
            attempt,
            at,
            kind,
            message: truncate_at_char_boundary(message, MAX_ERROR_MESSAGE_BYTES).to_owned(),
        }
    }
}

/// How an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The handler returned an error.
    Error,
    /// The handler panicked.
    Panic,
    /// The handler ran past its timeout.
    Timeout,
    /// The worker running it disappeared and its lease expired.
    Lost,
    /// The payload did not match the job type.
    Payload,
    /// No handler is registered for the job type.
    UnknownType,
    /// The record itself was not a valid job record.
    Malformed,
    /// The job ran out of attempts.
    Exhausted,
}

/// A job record split into its envelope and its raw payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The envelope.
    pub envelope: Envelope,
    /// The payload JSON, as stored.
    pub payload: Vec<u8>,
}

/// Encodes an envelope and a payload into the stored record format.
pub fn encode_record(envelope: &Envelope, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(96 + payload.len());
    serde_json::to_writer(&mut out, envelope).map_err(|source| Error::Encode {
        op: "encode_record",
        job_type: envelope.job_type.clone(),
        source,
    })?;
    out.push(b'\n');
    out.extend_from_slice(payload);
    Ok(out)
}

/// Encodes an envelope and a serializable payload straight into one record
/// buffer (no intermediate payload allocation). Returns the record and the
/// payload's size in bytes.
pub fn encode_job_record<T: Serialize + ?Sized>(
    envelope: &Envelope,
    payload: &T,
) -> Result<(Vec<u8>, usize), Error> {
    let mut out = Vec::with_capacity(192);
    let encode_error = |source| Error::Encode {
        op: "encode_record",
        job_type: envelope.job_type.clone(),
        source,
    };
    serde_json::to_writer(&mut out, envelope).map_err(encode_error)?;
    out.push(b'\n');
    let header_len = out.len();
    serde_json::to_writer(&mut out, payload).map_err(encode_error)?;
    let payload_len = out.len() - header_len;
    Ok((out, payload_len))
}

/// Splits a stored record into envelope bytes and payload bytes.
pub fn split_record(record: &[u8]) -> Option<(&[u8], &[u8])> {
    let newline = record.iter().position(|&b| b == b'\n')?;
    Some((&record[..newline], &record[newline + 1..]))
}

/// The flow key in a record's envelope, if it has one: a byte search of
/// the envelope, cheaper than decoding it (the member's value never holds
/// `"` or `\`, see [`Envelope::flow`]).
pub fn record_flow_key(record: &[u8]) -> Option<&str> {
    const MEMBER: &[u8] = b",\"flow\":\"";
    let (header, _) = split_record(record)?;
    let start = header
        .windows(MEMBER.len())
        .position(|window| window == MEMBER)?
        + MEMBER.len();
    let len = header[start..].iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&header[start..start + len]).ok()
}

/// Decodes only the envelope of a stored record; returns it with the payload bytes.
pub fn decode_record(record: &[u8]) -> Result<(Envelope, &[u8]), Error> {
    let (header, payload) = split_record(record).ok_or_else(|| Error::Decode {
        op: "decode_record",
        message: "no newline between envelope and payload".to_owned(),
    })?;
    let envelope: Envelope = serde_json::from_slice(header).map_err(|e| Error::Decode {
        op: "decode_record",
        message: format!("envelope is not valid: {e}"),
    })?;
    Ok((envelope, payload))
}

/// Reads the job id at its fixed place in a record (what the Lua scripts do).
///
/// Returns `None` when the record does not start with `{"id":"<uuid>"`.
pub fn record_id(record: &[u8]) -> Option<Uuid> {
    let id = record_id_bytes(record)?;
    std::str::from_utf8(id).ok()?.parse().ok()
}

/// The 36 bytes the scripts use as the job id (`string.sub(record, 8, 43)`).
pub fn record_id_bytes(record: &[u8]) -> Option<&[u8]> {
    if record.len() >= 44 && record.starts_with(b"{\"id\":\"") && record[43] == b'"' {
        Some(&record[7..43])
    } else {
        None
    }
}

/// Milliseconds since the epoch encoded in a UUID v7; `None` for other versions.
pub fn uuid_v7_millis(id: &Uuid) -> Option<i64> {
    if id.get_version_num() != 7 {
        return None;
    }
    let bytes = id.as_bytes();
    let mut ms: i64 = 0;
    for &b in &bytes[..6] {
        ms = (ms << 8) | i64::from(b);
    }
    Some(ms)
}

/// Cuts `text` to at most `max` bytes without splitting a character.
pub fn truncate_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn is_zero_u32(value: &u32) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero_i16(value: &i16) -> bool {
    *value == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_first_so_scripts_can_read_it_at_a_fixed_offset() {
        let mut env = Envelope::new("send_email");
        env.attempt = 3;
        env.priority = -2;
        let record = encode_record(&env, br#"{"user_id":7}"#).unwrap();
        assert_eq!(record_id(&record), Some(env.id));
        let text = String::from_utf8(record.clone()).unwrap();
        assert_eq!(&text[7..43], env.id.to_string());
        assert_eq!(text.as_bytes()[44], b',');
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let mut env = Envelope::new("t");
        env.attempt = 2;
        env.max_attempts = Some(5);
        env.priority = 4;
        env.timeout_ms = Some(1500);
        env.backoff = Some(BackoffPolicy::Fixed {
            delay_ms: 100,
            jitter: 0.0,
        });
        env.run_at = Some(1_700_000_000_000);
        env.version = 2;
        env.traceparent = Some("00-abc-def-01".to_owned());
        env.cron = Some("nightly".to_owned());
        env.unique = Some("0a1b2c".to_owned());
        env.expires_at = Some(1_700_000_100_000);
        env.track = true;
        env.dependents = true;
        env.after = vec![ParentRef {
            id: Uuid::now_v7(),
            queue: "q".to_owned(),
        }];
        env.on_parent_failure = Some(OnParentFailure::Wait);
        env.push_error(ErrorEntry::new(
            1,
            5,
            FailureKind::Panic,
            "boom\nwith newline",
        ));
        let record = encode_record(&env, b"{\"a\":\"x\\ny\"}").unwrap();
        assert_eq!(record.iter().filter(|&&b| b == b'\n').count(), 1);
        let (decoded, payload) = decode_record(&record).unwrap();
        assert_eq!(decoded, env);
        assert_eq!(payload, b"{\"a\":\"x\\ny\"}");
    }

    #[test]
    fn the_head_decodes_what_a_run_needs_and_skips_the_rest() {
        let mut env = Envelope::new("t");
        env.attempt = 4;
        env.max_attempts = Some(9);
        env.timeout_ms = Some(10);
        env.version = 3;
        env.push_error(ErrorEntry::new(4, 1, FailureKind::Error, "x"));
        let record = encode_record(&env, b"{}").unwrap();
        let (head, payload) = decode_head(&record).unwrap();
        assert_eq!(head.id, env.id);
        assert_eq!(head.job_type, "t");
        assert_eq!(
            (
                head.attempt,
                head.max_attempts,
                head.timeout_ms,
                head.version
            ),
            (4, Some(9), Some(10), 3)
        );
        assert_eq!(payload, b"{}");
        assert!(decode_head(b"{\"id\":\"x\"}\n").is_err());
    }

    #[test]
    fn defaults_are_omitted() {
        let env = Envelope::new("noop");
        let record = encode_record(&env, b"{}").unwrap();
        let text = String::from_utf8(record).unwrap();
        assert_eq!(
            text,
            format!("{{\"id\":\"{}\",\"type\":\"noop\"}}\n{{}}", env.id)
        );
    }

    #[test]
    fn malformed_records_are_reported_not_panicked_on() {
        assert!(decode_record(b"garbage").is_err());
        assert!(decode_record(b"{\"id\":1}\n{}").is_err());
        assert!(record_id(b"short").is_none());
        assert!(record_id(&[0xff; 64]).is_none());
    }

    #[test]
    fn error_history_is_bounded() {
        let mut env = Envelope::new("t");
        for attempt in 1..=25 {
            env.push_error(ErrorEntry::new(attempt, 0, FailureKind::Error, "x"));
        }
        assert_eq!(env.errors.len(), MAX_ERROR_HISTORY);
        assert_eq!(env.errors[0].attempt, 16);
        let long = "é".repeat(5000);
        let entry = ErrorEntry::new(1, 0, FailureKind::Error, &long);
        assert!(entry.message.len() <= MAX_ERROR_MESSAGE_BYTES);
    }

    #[test]
    fn enqueue_time_comes_from_the_uuid() {
        let before = chrono::Utc::now().timestamp_millis();
        let env = Envelope::new("t");
        let after = chrono::Utc::now().timestamp_millis();
        let at = env.enqueued_at_ms();
        assert!(before <= at && at <= after);
    }
}
