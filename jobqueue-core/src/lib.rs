//! # jobqueue-core
//!
//! Typed background jobs on Redis, by layer:
//!
//! * [`job`]: the [`Job`] trait, its context, [`JobError`], retry backoff;
//! * [`wire`]: the record format other languages read and write;
//! * [`client`]: the producer [`Client`] and its options;
//! * [`admin`]: the operator API ([`Admin`]) the dashboard and CLI build on;
//! * [`cron`]: cron schedules and entries;
//! * [`store`]: the Redis store — key layout, connections, one Rust file
//!   per Lua script (an internal layer), and the schema migrator.
//!
//! Applications add the `jobqueue` crate, which re-exports this one. Workers
//! live in `jobqueue-worker`, the dashboard in `jobqueue-dashboard`, the
//! `jobqueue` CLI in `jobqueue-cli`. `docs/architecture.md` maps the layout.
//!
//! ```no_run
//! use jobqueue_core::{Client, Job, JobContext, JobError};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct SendWelcomeEmail { user_id: u64, email: String }
//!
//! impl Job for SendWelcomeEmail {
//!     const NAME: &'static str = "send_welcome_email";
//!     async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
//!         tracing::info!(job = %ctx.id(), "welcome, {}", self.email);
//!         Ok(())
//!     }
//! }
//!
//! # async fn demo() -> Result<(), jobqueue_core::Error> {
//! let client = Client::connect("redis://127.0.0.1:6379").await?;
//! let id = client
//!     .enqueue(SendWelcomeEmail { user_id: 1, email: "ada@example.com".into() })
//!     .await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs, unreachable_pub)]
// Dev-dependencies are in scope for the unit tests too, so the check runs
// on the library build only.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![warn(clippy::too_many_lines)]

pub mod admin;
pub mod client;
mod config;
pub mod credentials;
pub mod cron;
mod error;
#[cfg(feature = "axum")]
mod error_response;
pub mod job;
pub mod json_time;
pub mod store;
pub mod wire;
pub mod workflow;

pub use admin::keys::{ClassLimits, FlowKeyInfo, KeyLimits};
pub use admin::limits::{QueueLimits, RateLimit, RateMode};
pub use admin::{
    Admin, AttemptLog, BrowseState, BulkAction, JobFilter, JobInfo, JobPage, JobSet, JobState,
    QueueInfo, Totals,
};
pub use client::batch::{Batch, BatchBuilder};
pub use client::builder::JobBuilder;
pub use client::cancel::CancelOutcome;
pub use client::options::{Expiry, IdempotencyKey, JobOptions, ParentSpec, RunAt};
pub use client::prepared::PreparedJob;
pub use client::signal::SignalOutcome;
pub use client::status::{JobStatus, JobStatusState, Progress};
pub use client::unique::{UniqueMode, UniqueOptions, UniqueOutcome};
pub use client::{Client, MAX_PRIORITY};
pub use config::{
    ClientConfig, DEFAULT_IDEMPOTENCY_WINDOW, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_REDIS_URL,
    ENV_PREFIX, ENV_REDIS_URL, ReplicaWait,
};
pub use error::{Error, ErrorKind, Result};
pub use job::backoff::BackoffPolicy;
pub use job::context::{JobContext, JobContextParts};
pub use job::dependencies::{OnParentFailure, ParentRef, ParentState};
pub use job::error::{JobError, JobErrorAction};
pub use job::parent_results::ParentOutput;
pub use job::stateful::{ProvidedBy, StatefulJob, WorkerState};
pub use job::steps::Signal;
pub use job::{
    DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, DEFAULT_TIMEOUT, Job, MAX_JOB_TYPE_LEN, decode_payload,
    validate_job_type,
};
pub use store::ops::cancel::CancelledFrom;
pub use wire::payload_codec::PayloadCodec;
pub use wire::payload_keys::{Keyring, PayloadKey};
pub use wire::worker_info::WorkerInfo;
pub use workflow::{
    NodeState, NodeStatus, RetryReport, Workflow, WorkflowState, WorkflowStatus, WorkflowSummary,
};

/// Re-exported so users need not depend on these crates directly.
pub use {chrono, serde_json, tokio_util, uuid};
