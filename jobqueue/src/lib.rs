//! # jobqueue
//!
//! Background jobs for Rust on Redis. A web app hands slow work (emails,
//! reports, webhooks) to a queue in well under a millisecond; worker
//! processes on any number of machines run typed jobs, retry failures with
//! backoff, park the hopeless ones in a dead set, and run delayed and cron
//! jobs on time — without losing a job when a worker dies. Operators watch
//! and repair it all from a dashboard, a JSON API, a CLI and Prometheus.
//!
//! This is the one crate to add. Its features pull in the rest:
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `worker` | yes | [`Worker`] and the runtime that runs jobs, the cron [`Scheduler`], [`InlineWorker`] |
//! | `dashboard` | | `dashboard::dashboard_router`: the web UI, JSON API and `/metrics` to mount in an axum app |
//! | `alerts` | | `dashboard::alerts`: alert rules evaluated by one leader among the dashboards, sent to signed webhooks (HTTPS via rustls) |
//! | `testing` | | `jobqueue::testing`: a test Redis per test, `assert_enqueued`, draining queues inline |
//! | `tls` | | `rediss://` URLs (the platform's TLS library) |
//! | `opentelemetry` | | jobs continue the producer's trace |
//! | `metrics` | | worker metrics through the `metrics` facade |
//! | `health` | | `/livez` and `/readyz` on a worker port |
//! | `axum` | | `serve_app_and_worker`: an axum app and a worker under one shutdown signal |
//!
//! The `jobqueue` command-line tool (dashboard server, queue operations,
//! benchmark) is the `jobqueue-cli` package.
//!
//! # A guided tour
//!
//! ## 1. Define a job
//!
//! A job is a serde type with a name (which routes it to its handler) and
//! the code that runs it. Options (queue, attempts, timeout, backoff) have
//! per-type defaults as associated constants.
//!
//! ```
//! use jobqueue::{Job, JobContext, JobError};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct SendWelcomeEmail {
//!     user_id: u64,
//!     email: String,
//! }
//!
//! impl Job for SendWelcomeEmail {
//!     const NAME: &'static str = "send_welcome_email";
//!     const QUEUE: &'static str = "mail";
//!
//!     async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
//!         tracing::info!(job = %ctx.id(), attempt = ctx.attempt(), "mailing {}", self.email);
//!         Ok(())
//!     }
//! }
//! ```
//!
//! ## 2. Enqueue it
//!
//! A [`Client`] is cheap to clone; keep one in your application state.
//! A job that runs now is one `RPUSH`; delays, options and bulk enqueues
//! are one round trip each.
//!
//! ```no_run
//! # use jobqueue::{Job, JobContext, JobError};
//! # use serde::{Deserialize, Serialize};
//! # #[derive(Serialize, Deserialize)]
//! # struct SendWelcomeEmail { user_id: u64, email: String }
//! # impl Job for SendWelcomeEmail {
//! #     const NAME: &'static str = "send_welcome_email";
//! #     async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> { Ok(()) }
//! # }
//! use std::time::Duration;
//! use jobqueue::Client;
//!
//! # async fn demo() -> Result<(), jobqueue::Error> {
//! let client = Client::connect("redis://127.0.0.1:6379").await?;
//! let job = |id: u64| SendWelcomeEmail { user_id: id, email: format!("u{id}@example.com") };
//! client.enqueue(job(1)).await?; // now
//! client.enqueue_in(Duration::from_secs(30), job(2)).await?; // later
//! client.job(job(3)).max_attempts(5).priority(10).enqueue().await?; // with options
//! client.enqueue_bulk((4..1004).map(job)).await?; // a thousand, one round trip
//! # Ok(()) }
//! ```
//!
//! ## 3. Run a worker
//!
//! A worker leases jobs under a lease its heartbeat renews, so a worker
//! that dies loses nothing: its jobs come back to the queue. On SIGTERM or
//! Ctrl-C it stops fetching, lets running jobs finish within a grace
//! period and hands the rest back.
//!
//! ```no_run
//! # use jobqueue::{Job, JobContext, JobError};
//! # use serde::{Deserialize, Serialize};
//! # #[derive(Serialize, Deserialize)]
//! # struct SendWelcomeEmail { user_id: u64, email: String }
//! # impl Job for SendWelcomeEmail {
//! #     const NAME: &'static str = "send_welcome_email";
//! #     const QUEUE: &'static str = "mail";
//! #     async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> { Ok(()) }
//! # }
//! use jobqueue::{Client, Worker, shutdown_signal};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::connect("redis://127.0.0.1:6379").await?;
//! Worker::builder(client)
//!     .register::<SendWelcomeEmail>() // serves its queue, "mail"
//!     .concurrency(50)
//!     .run_until(shutdown_signal())
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! ## 4. Mount the dashboard (feature `dashboard`)
//!
//! The dashboard is an axum router over the operator API ([`Admin`]): nest
//! it in your app behind your own authentication, or serve it with
//! `jobqueue serve`.
//!
//! ```no_run
//! # #[cfg(feature = "dashboard")]
//! # async fn demo() -> Result<(), jobqueue::Error> {
//! use jobqueue::Client;
//! use jobqueue::dashboard::{DashboardConfig, Role, dashboard_router};
//!
//! let client = Client::connect("redis://127.0.0.1:6379").await?;
//! let config = DashboardConfig::behind_host_auth(Role::Operator).base_path("/admin/jobs");
//! let app: axum::Router = axum::Router::new()
//!     .nest_service("/admin/jobs", dashboard_router(client.admin(), config));
//! # let _ = app;
//! # Ok(()) }
//! ```
//!
//! ## 5. Test (feature `testing`)
//!
//! Tests run against a real Redis under a prefix of their own, so they
//! run in parallel and see what production does.
//!
//! ```no_run
//! # #[cfg(feature = "testing")]
//! # mod example {
//! # use jobqueue::{Client, Job, JobContext, JobError};
//! # use serde::{Deserialize, Serialize};
//! # #[derive(Serialize, Deserialize)]
//! # struct SendWelcomeEmail { email: String }
//! # impl Job for SendWelcomeEmail {
//! #     const NAME: &'static str = "send_welcome_email";
//! #     async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> { Ok(()) }
//! # }
//! use jobqueue::testing::TestRedis;
//!
//! async fn sign_up(jobs: &Client, email: &str) -> Result<(), jobqueue::Error> {
//!     jobs.enqueue(SendWelcomeEmail { email: email.to_owned() }).await?;
//!     Ok(())
//! }
//!
//! #[tokio::test]
//! async fn signing_up_sends_a_welcome_email() -> Result<(), Box<dyn std::error::Error>> {
//!     let t = TestRedis::new().await?;
//!     sign_up(&t.client(), "ada@example.com").await?;
//!     t.assert_enqueued::<SendWelcomeEmail>(|job| job.email == "ada@example.com").await;
//!     let report = t.drain(t.worker().register::<SendWelcomeEmail>()).await?;
//!     assert_eq!(report.succeeded(), 1);
//!     Ok(())
//! }
//! # }
//! ```
//!
//! # Where to go next
//!
//! The guides in `docs/` (getting started, reliability, flow control,
//! scheduling, retries, the dashboard, operations, deployment) and the
//! runnable programs in `examples/`. `docs/architecture.md` maps every
//! place a job can be and every transition to its Lua script and Rust
//! caller.

#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use jobqueue_core::*;

#[cfg(feature = "worker")]
pub use jobqueue_worker::{
    InlineOutcome, InlineRun, InlineWorker, JobLogLayer, JobLogs, Middleware, Next,
    RunningScheduler, RunningWorker, Scheduler, SchedulerBuilder, Worker, WorkerBuilder,
    WorkerConfig, WorkerError, WorkerReport, shutdown_signal,
};

/// Serves an axum app and runs a worker under one shutdown signal (feature `axum`).
#[cfg(feature = "axum")]
pub use jobqueue_worker::serve_app_and_worker;

/// The worker runtime (feature `worker`): everything `jobqueue-worker`
/// exports, for the settings and types the crate root does not repeat.
#[cfg(feature = "worker")]
pub mod worker {
    pub use jobqueue_worker::*;
}

/// The web dashboard, JSON API and `/metrics` (feature `dashboard`).
#[cfg(feature = "dashboard")]
pub mod dashboard {
    pub use jobqueue_dashboard::*;
}

/// Test helpers for your own test suite (feature `testing`).
#[cfg(feature = "testing")]
pub mod testing {
    pub use jobqueue_testing::*;
}
