//! The error type of `jobqueue-core`.
//!
//! Every variant names the operation that failed (`op`, e.g. `"enqueue"`)
//! so a log line says what was being done, and [`Error::kind`] gives a
//! coarse [`ErrorKind`] to match on.

use uuid::Uuid;

/// What went wrong, coarsely; stable for matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Redis could not be reached, timed out, or refused the command.
    Unavailable,
    /// An argument was invalid (bad queue name, payload too large, …).
    InvalidArgument,
    /// The job, queue or worker does not exist.
    NotFound,
    /// The operation conflicts with the current state (lock held, …).
    Conflict,
    /// The data layout in Redis does not match this build.
    Schema,
    /// A job could not be encoded or a record could not be decoded.
    Codec,
}

/// Errors returned by the client, the store and the operator API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A Redis command failed (connection refused, timeout, server error).
    #[error("{op}: Redis command failed: {source}")]
    Redis {
        /// The operation that failed.
        op: &'static str,
        /// The Redis client's error.
        #[source]
        source: redis::RedisError,
    },
    /// An argument was rejected before anything was sent.
    #[error("{op}: {message}")]
    InvalidArgument {
        /// The operation that failed.
        op: &'static str,
        /// What was wrong, in words.
        message: String,
    },
    /// A job's payload exceeds the configured size limit.
    #[error(
        "{op}: payload of job type '{job_type}' is {size} bytes, above the limit of {limit} bytes \
         (raise it with ClientConfig::max_payload_bytes)"
    )]
    PayloadTooLarge {
        /// The operation that failed.
        op: &'static str,
        /// The job type.
        job_type: String,
        /// Encoded payload size in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A job could not be serialized.
    #[error("{op}: could not encode job of type '{job_type}': {source}")]
    Encode {
        /// The operation that failed.
        op: &'static str,
        /// The job type.
        job_type: String,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// A record read from Redis could not be decoded.
    #[error("{op}: could not decode job record: {message}")]
    Decode {
        /// The operation that failed.
        op: &'static str,
        /// What was wrong, in words.
        message: String,
    },
    /// The job does not exist (in the state where it was looked for).
    #[error("{op}: job {id} not found")]
    JobNotFound {
        /// The operation that failed.
        op: &'static str,
        /// The job id.
        id: Uuid,
    },
    /// A waited-for job ended without succeeding.
    #[error("{op}: job {id} ended {state}{}", error.as_deref().map(|e| format!(": {e}")).unwrap_or_default())]
    JobNotSucceeded {
        /// The operation that failed.
        op: &'static str,
        /// The job id.
        id: Uuid,
        /// How it ended (`dead`, `cancelled`, `expired`).
        state: &'static str,
        /// Its last error, if any.
        error: Option<String>,
    },
    /// A wait for a job's result ran out of time.
    #[error("{op}: job {id} did not finish in time")]
    WaitTimeout {
        /// The operation that failed.
        op: &'static str,
        /// The job id.
        id: Uuid,
    },
    /// No cron entry of that name on that queue.
    #[error("{op}: no cron entry '{name}' on queue '{queue}'")]
    CronEntryNotFound {
        /// The operation that failed.
        op: &'static str,
        /// The queue looked in.
        queue: String,
        /// The entry name.
        name: String,
    },
    /// No limits are set for that key class on that queue (its keys use
    /// [`crate::KeyLimits::DEFAULT`]).
    #[error("{op}: no limits set for key class '{class}' on queue '{queue}'")]
    KeyClassNotFound {
        /// The operation that failed.
        op: &'static str,
        /// The queue looked in.
        queue: String,
        /// The key class.
        class: String,
    },
    /// The Redis data was written by a newer jobqueue than this one.
    #[error(
        "the Redis data layout is schema version {found}, newer than this build of jobqueue \
         supports ({supported}); upgrade jobqueue before starting workers against it"
    )]
    SchemaTooNew {
        /// Version found in Redis.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// The Redis data needs migrations this process was not allowed to run.
    #[error(
        "the Redis data layout is schema version {found}, this build needs {required}; \
         run `jobqueue migrate` (or enable migrate-on-start)"
    )]
    SchemaOutdated {
        /// Version found in Redis.
        found: u32,
        /// Version this build needs.
        required: u32,
    },
    /// Another process holds the migration lock.
    #[error("migrations are already running in another process (lock {lock_key} is held)")]
    MigrationLocked {
        /// The lock key.
        lock_key: String,
    },
    /// The jobs were enqueued on the primary, but fewer replicas than
    /// [`crate::ClientConfig::wait_for_replicas`] asks for confirmed them
    /// in time: a failover now could lose them.
    #[error(
        "{op}: enqueued, but only {acknowledged} of {wanted} replicas confirmed the write in time"
    )]
    NotReplicated {
        /// The operation that failed.
        op: &'static str,
        /// Replicas that confirmed.
        acknowledged: i64,
        /// Replicas asked for.
        wanted: u32,
    },
    /// Redis replied with something the caller did not expect.
    #[error("{op}: unexpected reply from Redis: {detail}")]
    Protocol {
        /// The operation that failed.
        op: &'static str,
        /// What was unexpected.
        detail: String,
    },
}

impl Error {
    /// The coarse kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Redis { .. } | Error::Protocol { .. } | Error::NotReplicated { .. } => {
                ErrorKind::Unavailable
            }
            Error::InvalidArgument { .. } | Error::PayloadTooLarge { .. } => {
                ErrorKind::InvalidArgument
            }
            Error::Encode { .. } | Error::Decode { .. } => ErrorKind::Codec,
            Error::JobNotFound { .. }
            | Error::CronEntryNotFound { .. }
            | Error::KeyClassNotFound { .. } => ErrorKind::NotFound,
            Error::JobNotSucceeded { .. } => ErrorKind::Conflict,
            Error::WaitTimeout { .. } => ErrorKind::Unavailable,
            Error::MigrationLocked { .. } => ErrorKind::Conflict,
            Error::SchemaTooNew { .. } | Error::SchemaOutdated { .. } => ErrorKind::Schema,
        }
    }

    /// The operation that failed, when the error names one.
    pub fn op(&self) -> Option<&'static str> {
        match self {
            Error::Redis { op, .. }
            | Error::InvalidArgument { op, .. }
            | Error::PayloadTooLarge { op, .. }
            | Error::Encode { op, .. }
            | Error::Decode { op, .. }
            | Error::JobNotFound { op, .. }
            | Error::CronEntryNotFound { op, .. }
            | Error::KeyClassNotFound { op, .. }
            | Error::JobNotSucceeded { op, .. }
            | Error::WaitTimeout { op, .. }
            | Error::NotReplicated { op, .. }
            | Error::Protocol { op, .. } => Some(op),
            _ => None,
        }
    }

    /// Wraps a Redis error with the operation it interrupted.
    pub(crate) fn redis(op: &'static str) -> impl FnOnce(redis::RedisError) -> Error {
        move |source| Error::Redis { op, source }
    }

    pub(crate) fn protocol(op: &'static str, detail: impl Into<String>) -> Error {
        Error::Protocol {
            op,
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid(op: &'static str, message: impl Into<String>) -> Error {
        Error::InvalidArgument {
            op,
            message: message.into(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
