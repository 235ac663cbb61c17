//! The [`Job`] trait: a typed job, its defaults and its handler.

pub mod backoff;
pub mod context;
pub mod dependencies;
pub mod error;
pub mod flow_key;
pub mod memo;
pub mod parent_results;
pub mod stateful;
pub mod steps;
pub mod tags;

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::job::backoff::BackoffPolicy;
use crate::job::context::JobContext;
use crate::job::error::JobError;

/// The queue a job goes to when neither the job type nor the call names one.
pub const DEFAULT_QUEUE: &str = "default";

/// Default number of attempts (the first run included) before a job is dead.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 25;

/// Default time limit of one run (30 minutes).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Longest accepted job type name, in bytes.
pub const MAX_JOB_TYPE_LEN: usize = 128;

/// A typed background job.
///
/// The struct is the payload (serialized with serde as JSON); [`Job::NAME`]
/// routes it to the handler registered for it; [`Job::perform`] is the
/// handler. The producer and the worker share the type, so both ends are
/// checked at compile time.
///
/// Defaults can be set per job type with the associated constants and
/// overridden per enqueue with [`crate::Client::job`].
///
/// A job whose handler needs application state (a database pool, an HTTP
/// client) implements [`stateful::StatefulJob`] instead: the same items
/// plus `type State`.
///
/// ```
/// use jobqueue_core::{Job, JobContext, JobError};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct SendWelcomeEmail {
///     user_id: u64,
///     email: String,
/// }
///
/// impl Job for SendWelcomeEmail {
///     const NAME: &'static str = "send_welcome_email";
///     const QUEUE: &'static str = "mail";
///     const MAX_ATTEMPTS: u32 = 5;
///
///     async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
///         tracing::info!(user = self.user_id, attempt = ctx.attempt(), "sending welcome email");
///         Ok(())
///     }
/// }
/// ```
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The job type name: stable across deploys, unique per application.
    /// 1-128 characters of `A-Z a-z 0-9 _ - . :`.
    const NAME: &'static str;

    /// Queue used when the enqueue call does not name one.
    const QUEUE: &'static str = DEFAULT_QUEUE;

    /// Attempts (first run included) before the job is moved to the dead set.
    const MAX_ATTEMPTS: u32 = DEFAULT_MAX_ATTEMPTS;

    /// Time limit of one run; `None` lets a run take as long as it needs.
    const TIMEOUT: Option<Duration> = Some(DEFAULT_TIMEOUT);

    /// Version of this job's payload shape; see [`Job::upcast`].
    const VERSION: u32 = 0;

    /// Track every job of this type, as if enqueued with
    /// [`crate::JobBuilder::track`]: it has a status from enqueue
    /// (`queued`, `scheduled`, `waiting`) through `running` to its end,
    /// readable with [`crate::Client::status`] and
    /// [`crate::Client::wait_result`]. Set it for jobs whose progress or
    /// result someone reads. Costs a status write at enqueue and at each
    /// transition; untracked jobs pay nothing.
    const TRACK: bool = false;

    /// Delay before retry number `retry` (1 = first retry) when the job
    /// was enqueued without a per-job backoff policy.
    ///
    /// The default is [`BackoffPolicy::default`]; override it for any curve.
    fn retry_delay(retry: u32) -> Duration {
        BackoffPolicy::default().delay(retry)
    }

    /// Rewrites a payload written by an older version of this job type
    /// (`from_version` < [`Job::VERSION`]) into the current shape, before it
    /// is deserialized. The default returns it unchanged.
    fn upcast(from_version: u32, payload: serde_json::Value) -> serde_json::Value {
        let _ = from_version;
        payload
    }

    /// The job's flow key (`class:value`, e.g. `account:42`), taken from
    /// the job: keyed jobs run within their key class's limits (one at a
    /// time per key unless configured otherwise, see
    /// [`crate::admin::keys::KeyLimits`]). The default, `None`, makes a plain job.
    /// [`crate::JobBuilder::flow_key`] overrides it per enqueue.
    ///
    /// ```
    /// # use jobqueue_core::{Job, JobContext, JobError};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// struct SyncAccount { account_id: u64 }
    /// impl Job for SyncAccount {
    ///     const NAME: &'static str = "sync_account";
    ///     fn flow_key(&self) -> Option<String> {
    ///         Some(format!("account:{}", self.account_id))
    ///     }
    ///     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// }
    /// ```
    fn flow_key(&self) -> Option<String> {
        None
    }

    /// Runs the job. Return an error to retry it (see [`JobError`] for
    /// permanent failures and snoozing).
    ///
    /// It runs as a task on the worker's tokio runtime and gives its thread
    /// back only at an `.await`: run blocking or CPU-bound code (synchronous
    /// clients, `std::fs`, image processing, `std::thread::sleep`) with
    /// `tokio::task::spawn_blocking`, or it stalls the other jobs on its
    /// thread and its [`Job::TIMEOUT`] cannot interrupt it. The worker warns
    /// (once per job type) about a poll that holds its thread for 100 ms or
    /// more; see docs/concepts.md, "Blocking and CPU-bound work".
    ///
    /// ```
    /// # use jobqueue_core::{Job, JobContext, JobError};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Checksum { path: String }
    /// impl Job for Checksum {
    ///     const NAME: &'static str = "checksum";
    ///     async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
    ///         let path = self.path.clone();
    ///         let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
    ///             .await
    ///             ??;
    ///         tracing::info!(len = bytes.len(), "read");
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn perform(&self, ctx: &JobContext) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// Checks a job type name: 1-128 bytes of `A-Z a-z 0-9 _ - . :`.
pub fn validate_job_type(name: &str) -> Result<(), crate::Error> {
    if crate::store::keys::is_valid_name(name, MAX_JOB_TYPE_LEN) {
        Ok(())
    } else {
        Err(crate::Error::invalid(
            "job_type",
            format!(
                "job type name {name:?} must be 1-{MAX_JOB_TYPE_LEN} characters of A-Z a-z 0-9 _ - . :"
            ),
        ))
    }
}

/// Decodes a stored payload written by `version` of job type `J` (a
/// [`Job`] or a [`stateful::StatefulJob`]), upcasting it with
/// [`Job::upcast`] first when the version is older than [`Job::VERSION`]. This is what workers do before running a job.
///
/// ```
/// use jobqueue_core::{Job, JobContext, JobError, decode_payload};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Greet { name: String, greeting: String }
///
/// impl Job for Greet {
///     const NAME: &'static str = "greet";
///     const VERSION: u32 = 1;
///     fn upcast(_from: u32, mut payload: serde_json::Value) -> serde_json::Value {
///         payload["greeting"] = "Hello".into(); // v0 had no greeting
///         payload
///     }
///     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
/// }
///
/// let job: Greet = decode_payload(br#"{"name":"Ada"}"#, 0).unwrap();
/// assert_eq!(job.greeting, "Hello");
/// ```
pub fn decode_payload<J: stateful::StatefulJob>(
    payload: &[u8],
    version: u32,
) -> Result<J, crate::Error> {
    let decode_error = |message: String| crate::Error::Decode {
        op: "decode_payload",
        message,
    };
    if version < J::VERSION {
        let value: serde_json::Value = serde_json::from_slice(payload)
            .map_err(|e| decode_error(format!("payload is not valid JSON: {e}")))?;
        serde_json::from_value(J::upcast(version, value)).map_err(|e| {
            decode_error(format!(
                "payload (version {version}, upcast to {}) does not match job type '{}': {e}",
                J::VERSION,
                J::NAME
            ))
        })
    } else {
        serde_json::from_slice(payload).map_err(|e| {
            decode_error(format!(
                "payload does not match job type '{}': {e}",
                J::NAME
            ))
        })
    }
}
