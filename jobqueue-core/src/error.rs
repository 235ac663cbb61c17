//! The error type of `jobqueue-core`.
//!
//! Every variant names the operation that failed (`op`, e.g. `"enqueue"`)
//! so a log line says what was being done, and [`Error::kind`] gives a
//! coarse [`ErrorKind`] to match on.
//!
//! ## Was it applied?
//!
//! A failed call to Redis either certainly did nothing
//! ([`ErrorKind::Unavailable`]: the connection was refused, Redis refused
//! the command) or may have done it ([`ErrorKind::OutcomeUnknown`]: the
//! request was sent, or may have been, and no usable reply came — a
//! timeout, a connection dropped mid-request, a failover). After an
//! unknown outcome an enqueue may have stored the job: a producer that
//! retries must retry with the same job id
//! ([`crate::JobBuilder::id`]), which makes the retry a no-op if the first
//! attempt was applied (docs/retries-and-dead-letter.md, "Retrying an
//! enqueue").
//!
//! ```no_run
//! # use jobqueue_core::{Client, ErrorKind, Job, JobContext, JobError};
//! # #[derive(serde::Serialize, serde::Deserialize)] struct Welcome { user: u64 }
//! # impl Job for Welcome {
//! #     const NAME: &'static str = "welcome";
//! #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
//! # }
//! # async fn demo(client: Client) -> Result<(), jobqueue_core::Error> {
//! let id = uuid::Uuid::now_v7(); // or derived from the request it serves
//! for attempt in 1.. {
//!     match client.job(Welcome { user: 7 }).id(id).enqueue().await {
//!         Ok(_) => break,
//!         // Not applied, or maybe applied: with the same id a retry is safe.
//!         Err(err) if matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::OutcomeUnknown)
//!             && attempt < 5 =>
//!         {
//!             tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
//!         }
//!         Err(err) => return Err(err),
//!     }
//! }
//! # Ok(()) }
//! ```

use uuid::Uuid;

/// What went wrong, coarsely; stable for matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Redis could not be reached (connection refused) or refused the
    /// command: the operation certainly did not take effect, so retrying
    /// it cannot apply it twice.
    Unavailable,
    /// The request was sent to Redis (or may have been) but no usable
    /// reply came: a response timeout, a connection dropped mid-request,
    /// a failover, or fewer replicas than asked confirmed a write. The
    /// operation may or may not have taken effect; retry an enqueue only
    /// with the same job id ([`crate::JobBuilder::id`]).
    OutcomeUnknown,
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
    /// A job's result ([`crate::JobContext::set_result`]) is larger than
    /// [`crate::client::status::MAX_RESULT_BYTES`]: it would not be kept.
    #[error(
        "{op}: result is {size} bytes of JSON, above the cap of {limit} bytes \
         (MAX_RESULT_BYTES): store large outputs elsewhere and return a reference"
    )]
    ResultTooLarge {
        /// The operation that failed.
        op: &'static str,
        /// The result's size, bytes of JSON.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// No workflow has this id (never enqueued, or past its retention).
    #[error("{op}: workflow {id} not found")]
    WorkflowNotFound {
        /// The operation that failed.
        op: &'static str,
        /// The workflow id.
        id: Uuid,
    },
    /// A request that changes data was sent to Redis (or may have been)
    /// without a usable reply, through a client that retries requests by
    /// itself after a dropped connection (redis-rs's Redis Cluster client):
    /// whatever the final error, an earlier attempt may have been applied.
    /// Its kind is [`ErrorKind::OutcomeUnknown`].
    #[error("{op}: outcome unknown, Redis may have applied it: {source}")]
    OutcomeUnknown {
        /// The operation that failed.
        op: &'static str,
        /// The Redis client's last error.
        #[source]
        source: redis::RedisError,
    },
    /// A job id given with [`crate::JobBuilder::id`] (or carried by a
    /// prepared job) is already taken by a different job (another type or
    /// payload): nothing was enqueued for it. Its kind is
    /// [`ErrorKind::Conflict`].
    #[error(
        "{op}: job id {id} is already taken by a different job on queue '{queue}' \
         (a retried enqueue must send the same job type and payload with its id)"
    )]
    DuplicateId {
        /// The operation that failed.
        op: &'static str,
        /// The queue.
        queue: String,
        /// The id.
        id: Uuid,
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
    /// A payload could not be encoded or decoded by the
    /// [`crate::wire::payload_codec::PayloadCodec`] (a missing key, a
    /// tampered ciphertext, a feature this build lacks).
    #[error("{op}: {source}")]
    Payload {
        /// The operation that failed.
        op: &'static str,
        /// Why the payload could not be encoded or decoded.
        #[source]
        source: crate::wire::payload_codec::PayloadCodecError,
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
    /// No weight is set for that key class or flow key on that queue (its
    /// keys weigh their class's, or 1; see `Admin::set_flow_weight`).
    #[error("{op}: no weight set for '{name}' on queue '{queue}'")]
    FlowWeightNotFound {
        /// The operation that failed.
        op: &'static str,
        /// The queue looked in.
        queue: String,
        /// The key class or flow key.
        name: String,
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
    /// No batch with that id on that queue (never created, or its
    /// retention is over).
    #[error("{op}: batch {id} not found on queue '{queue}'")]
    BatchNotFound {
        /// The operation that failed.
        op: &'static str,
        /// The batch's home queue.
        queue: String,
        /// The batch id.
        id: Uuid,
    },
    /// The batch takes no more jobs: it completed (no job pending and no
    /// producer holding it) or was cancelled. Nothing was added.
    #[error("{op}: batch {id} is closed (complete or cancelled); nothing was added")]
    BatchClosed {
        /// The operation that failed.
        op: &'static str,
        /// The batch id.
        id: Uuid,
    },
    /// Workflow `id` is not in a state that allows the operation: a retry
    /// from a node that did not fail, while the workflow is being placed, or
    /// raced by another retry that claimed the workflow first. Nothing was
    /// changed. Its kind is [`ErrorKind::Conflict`].
    #[error("{op}: workflow {id}: {detail}; nothing was changed")]
    WorkflowConflict {
        /// The operation that failed.
        op: &'static str,
        /// The workflow id.
        id: Uuid,
        /// What is in the way.
        detail: String,
    },
    /// A step's output is larger than a step may store
    /// ([`crate::job::steps::MAX_STEP_OUTPUT_BYTES`]): nothing was stored.
    #[error(
        "step '{step}': output is {size} bytes of JSON, above the limit of {limit} bytes \
         (store a reference, e.g. an object-store key, instead of the data)"
    )]
    StepTooLarge {
        /// The step name.
        step: String,
        /// Size of the output's JSON, bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The worker no longer holds the job's lease (it lapsed and the job
    /// was, or will be, reclaimed and run again): nothing was stored.
    #[error("{op}: job {id} is no longer leased by this worker; nothing was stored")]
    LeaseLost {
        /// The operation that failed.
        op: &'static str,
        /// The job id.
        id: Uuid,
    },
    /// An idempotency key ([`crate::JobBuilder::idempotency_key`]) is held,
    /// within its window, by a job with another type or payload: nothing
    /// was enqueued. Its kind is [`ErrorKind::Conflict`].
    #[error(
        "{op}: idempotency key is already used by job {original} on queue '{queue}' \
         with a different job type or payload"
    )]
    IdempotencyConflict {
        /// The operation that failed.
        op: &'static str,
        /// The queue.
        queue: String,
        /// The job that holds the key.
        original: Uuid,
    },
    /// A reader of a queue's event stream resumed from an event the stream
    /// no longer holds (trimmed at its cap, or events were switched off):
    /// events after it may be missing. The stream goes on from the oldest
    /// event it holds.
    #[error(
        "events of queue '{queue}' after {after} may be missing: the stream no longer holds that event \
         (trimmed at its cap, or switched off); reading goes on from the oldest one kept"
    )]
    EventsMissed {
        /// The queue.
        queue: String,
        /// The event the reader resumed from.
        after: String,
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
            Error::Redis { source, .. } if may_have_applied(source) => ErrorKind::OutcomeUnknown,
            Error::Redis { .. } => ErrorKind::Unavailable,
            // A reply came that could not be read, a write the replicas did
            // not confirm, a request a retrying client may have applied.
            Error::Protocol { .. } | Error::NotReplicated { .. } | Error::OutcomeUnknown { .. } => {
                ErrorKind::OutcomeUnknown
            }
            Error::DuplicateId { .. } | Error::IdempotencyConflict { .. } => ErrorKind::Conflict,
            Error::LeaseLost { .. } => ErrorKind::Conflict,
            Error::InvalidArgument { .. }
            | Error::PayloadTooLarge { .. }
            | Error::ResultTooLarge { .. }
            | Error::StepTooLarge { .. } => ErrorKind::InvalidArgument,
            Error::WorkflowNotFound { .. } => ErrorKind::NotFound,
            Error::Encode { .. } | Error::Decode { .. } | Error::Payload { .. } => ErrorKind::Codec,
            Error::JobNotFound { .. }
            | Error::CronEntryNotFound { .. }
            | Error::KeyClassNotFound { .. }
            | Error::FlowWeightNotFound { .. }
            | Error::BatchNotFound { .. }
            | Error::EventsMissed { .. } => ErrorKind::NotFound,
            Error::BatchClosed { .. } | Error::WorkflowConflict { .. } => ErrorKind::Conflict,
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
            | Error::ResultTooLarge { op, .. }
            | Error::WorkflowNotFound { op, .. }
            | Error::Encode { op, .. }
            | Error::Decode { op, .. }
            | Error::Payload { op, .. }
            | Error::JobNotFound { op, .. }
            | Error::CronEntryNotFound { op, .. }
            | Error::KeyClassNotFound { op, .. }
            | Error::FlowWeightNotFound { op, .. }
            | Error::JobNotSucceeded { op, .. }
            | Error::WaitTimeout { op, .. }
            | Error::NotReplicated { op, .. }
            | Error::OutcomeUnknown { op, .. }
            | Error::DuplicateId { op, .. }
            | Error::BatchNotFound { op, .. }
            | Error::BatchClosed { op, .. }
            | Error::WorkflowConflict { op, .. }
            | Error::LeaseLost { op, .. }
            | Error::IdempotencyConflict { op, .. }
            | Error::Protocol { op, .. } => Some(op),
            _ => None,
        }
    }

    /// True when the failed operation may have taken effect in Redis
    /// ([`ErrorKind::OutcomeUnknown`]): retry an enqueue only with the same
    /// job id.
    pub fn outcome_unknown(&self) -> bool {
        self.kind() == ErrorKind::OutcomeUnknown
    }

    /// True when an open connection closed under the request (broken
    /// pipe, reset, end of stream) — not when Redis refused to connect:
    /// the connection reconnects on the next call, so a call that is safe
    /// to repeat can be sent again at once.
    pub fn connection_dropped(&self) -> bool {
        match self {
            Error::Redis { source, .. } | Error::OutcomeUnknown { source, .. } => {
                source.is_connection_dropped() && !source.is_connection_refusal()
            }
            _ => false,
        }
    }

    /// For a write sent through a client that retries requests by itself
    /// (see [`Error::OutcomeUnknown`]): every Redis failure becomes an
    /// unknown outcome.
    pub(crate) fn after_retrying_client(self) -> Error {
        match self {
            Error::Redis { op, source } => Error::OutcomeUnknown { op, source },
            other => other,
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

/// Whether a request that failed with `source` may have been applied by
/// Redis. Only failures that prove nothing was done say no: a refused
/// connection, an error reply (Redis refused the command; jobqueue's
/// scripts check their arguments before they write), a failure before
/// sending. Every other I/O failure may have happened after the request
/// left (a timeout, a connection closed mid-request: redis-rs reports a
/// connection that was already closed before sending the same way), and a
/// reply that could not be read was a reply to a request that ran.
fn may_have_applied(source: &redis::RedisError) -> bool {
    if source.is_connection_refusal() {
        return false;
    }
    matches!(
        source.kind(),
        redis::ErrorKind::Io | redis::ErrorKind::Parse | redis::ErrorKind::UnexpectedReturnType
    )
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn redis_error(source: redis::RedisError) -> Error {
        Error::Redis {
            op: "enqueue",
            source,
        }
    }

    fn io(kind: std::io::ErrorKind) -> Error {
        redis_error(std::io::Error::from(kind).into())
    }

    #[test]
    fn a_refused_connection_or_command_certainly_did_nothing() {
        let refused = io(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(refused.kind(), ErrorKind::Unavailable);
        assert!(!refused.outcome_unknown());
        let server = redis_error(redis::RedisError::from((
            redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly),
            "READONLY",
        )));
        assert_eq!(server.kind(), ErrorKind::Unavailable);
        let script = redis_error(redis::RedisError::from((
            redis::ErrorKind::Extension,
            "ERR jobqueue: bad argument",
        )));
        assert_eq!(script.kind(), ErrorKind::Unavailable);
    }

    #[test]
    fn a_request_without_a_reply_has_an_unknown_outcome() {
        for kind in [
            std::io::ErrorKind::TimedOut,
            std::io::ErrorKind::BrokenPipe,
            std::io::ErrorKind::ConnectionReset,
            std::io::ErrorKind::ConnectionAborted,
            std::io::ErrorKind::UnexpectedEof,
        ] {
            let err = io(kind);
            assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{kind:?}");
            assert!(err.outcome_unknown());
        }
        let unread = redis_error(redis::RedisError::from((
            redis::ErrorKind::UnexpectedReturnType,
            "not an integer",
        )));
        assert!(unread.outcome_unknown());
        let unconfirmed = Error::NotReplicated {
            op: "enqueue",
            acknowledged: 0,
            wanted: 1,
        };
        assert!(unconfirmed.outcome_unknown());
    }

    #[test]
    fn behind_a_retrying_client_every_redis_failure_is_unknown() {
        let refused = io(std::io::ErrorKind::ConnectionRefused).after_retrying_client();
        assert_eq!(refused.kind(), ErrorKind::OutcomeUnknown);
        assert!(refused.to_string().contains("outcome unknown"), "{refused}");
        let invalid = Error::invalid("enqueue", "bad").after_retrying_client();
        assert_eq!(invalid.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn only_a_connection_closed_under_a_request_counts_as_dropped() {
        assert!(io(std::io::ErrorKind::BrokenPipe).connection_dropped());
        assert!(io(std::io::ErrorKind::ConnectionReset).connection_dropped());
        assert!(io(std::io::ErrorKind::UnexpectedEof).connection_dropped());
        assert!(!io(std::io::ErrorKind::ConnectionRefused).connection_dropped());
        assert!(!io(std::io::ErrorKind::TimedOut).connection_dropped());
        let server = redis_error(redis::RedisError::from((
            redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly),
            "READONLY",
        )));
        assert!(!server.connection_dropped());
        assert!(!Error::invalid("enqueue", "bad queue name").connection_dropped());
    }

    #[test]
    fn a_duplicate_id_is_a_conflict_that_names_the_id() {
        let id = Uuid::now_v7();
        let err = Error::DuplicateId {
            op: "enqueue",
            queue: "mail".to_owned(),
            id,
        };
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(err.to_string().contains(&id.to_string()), "{err}");
    }
}
