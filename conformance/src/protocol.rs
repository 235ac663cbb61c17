//! The producer mode's requests and replies (ADAPTER.md, "Producer mode"),
//! typed: the driver builds requests with them and the Rust adapter reads
//! them. Replies stay JSON values (each adapter writes its own), read
//! through [`Reply`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One request line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
// One request at a time is built, sent and dropped: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Request {
    /// Enqueue one job.
    Enqueue {
        /// Its queue.
        queue: String,
        /// Its job type.
        #[serde(rename = "type")]
        job_type: String,
        /// Its payload.
        payload: Value,
        /// Its options.
        #[serde(default)]
        options: Options,
    },
    /// Enqueue several jobs in one call.
    EnqueueMany {
        /// Their queue.
        queue: String,
        /// The jobs.
        jobs: Vec<JobSpec>,
    },
    /// Enqueue jobs each of which runs after the previous one succeeded.
    Chain {
        /// Their queue.
        queue: String,
        /// The jobs, in order.
        jobs: Vec<JobSpec>,
    },
    /// Read a job's status.
    Status {
        /// Its queue.
        queue: String,
        /// Its id.
        id: String,
    },
}

/// One job of `enqueue_many` or `chain`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobSpec {
    /// Its job type.
    #[serde(rename = "type")]
    pub job_type: String,
    /// Its payload.
    pub payload: Value,
    /// Its options.
    #[serde(default)]
    pub options: Options,
}

impl JobSpec {
    /// A job of `job_type` with `payload` and no options.
    pub fn new(job_type: &str, payload: Value) -> Self {
        Self {
            job_type: job_type.to_owned(),
            payload,
            options: Options::default(),
        }
    }

    /// The same job with `options`.
    #[must_use]
    pub fn with(mut self, options: Options) -> Self {
        self.options = options;
        self
    }
}

/// A job's options; every one optional (ADAPTER.md's list).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // the names are ADAPTER.md's; it says what each means
pub struct Options {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_for_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_window_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// A backoff policy as ADAPTER.md spells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// The same delay before every retry.
    FixedMs(u64),
    /// `base_ms × factor^(retry-1)`, at most `max_ms`.
    Exponential {
        /// Delay before the first retry.
        base_ms: u64,
        /// Growth per retry.
        factor: f64,
        /// Longest delay.
        max_ms: u64,
    },
}

/// The error kinds of a refused request (ADAPTER.md).
pub mod error_kind {
    /// Refused before anything was written.
    pub const INVALID: &str = "invalid";
    /// A duplicate (outside the unique-job reply).
    pub const DUPLICATE: &str = "duplicate";
    /// The implementation does not have this feature.
    pub const UNSUPPORTED: &str = "unsupported";
    /// Redis failed.
    pub const REDIS: &str = "redis";
    /// Anything else.
    pub const OTHER: &str = "other";
}

/// One reply line, read.
#[derive(Debug, Clone)]
pub struct Reply(pub Value);

impl Reply {
    /// `ok` is true.
    pub fn is_ok(&self) -> bool {
        self.0.get("ok").and_then(Value::as_bool) == Some(true)
    }

    /// The error kind of a refusal (`None` for an ok reply).
    pub fn error_kind(&self) -> Option<&str> {
        if self.is_ok() {
            return None;
        }
        self.0.get("error").and_then(Value::as_str)
    }

    /// A string member.
    pub fn str(&self, member: &str) -> Option<&str> {
        self.0.get(member).and_then(Value::as_str)
    }

    /// The `ids` array as strings.
    pub fn ids(&self) -> Vec<String> {
        self.0
            .get("ids")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
