//! # jobqueue-worker
//!
//! The worker runtime of jobqueue: processes that lease typed jobs from
//! Redis and run them concurrently.
//!
//! * **Reliable fetch**: a fetched job sits in the worker's active hash under
//!   a lease that the heartbeat renews; when a worker dies, any other worker
//!   puts its jobs back within lease + a few seconds.
//! * **Retries** with backoff, then the dead set; panics, timeouts, payloads
//!   that do not decode and unknown job types never stop the worker.
//! * **Scheduling** of delayed jobs and retries exactly when due (no poll
//!   interval), exactly once across any number of workers.
//! * **Graceful shutdown**: on SIGTERM/Ctrl-C stop fetching, let running jobs
//!   finish within a grace period, hand the rest back at once.
//! * **Batching**: fetches and acknowledgements are batched into single
//!   script calls, which also count the jobs they end (exact counters: a
//!   crash or a retried call never loses or doubles a count).
//!
//! See [`Worker`] for an example and [`WorkerConfig`] for every setting.

#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::too_many_lines)]
// Dev-dependencies are in scope for the unit tests too, so the check runs
// on the library build only.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

// Layout: `worker/` starts and stops a worker; `run/` is one job's run and
// outcome; `loops/` the background loops (fetcher, outcome writer,
// heartbeat, reaper, promoter, cron, event subscriber) and the
// housekeeping thread; `state/` what they share.

mod config;
mod cron_scheduler;
mod error;
mod health;
mod inline;
mod job_logs;
mod loops;
mod metrics;
mod middleware;
mod run;
#[cfg(feature = "axum")]
mod serve_app;
mod signal;
mod state;
mod worker;

pub use config::{DEFAULT_LEASE, Prefetch, QueueOrder, WorkerConfig};
pub use cron_scheduler::{RunningScheduler, Scheduler, SchedulerBuilder};
pub use error::WorkerError;
pub use inline::{InlineOutcome, InlineRun, InlineWorker};
pub use job_logs::{JobLogLayer, JobLogs};
pub use middleware::{Middleware, Next};
#[cfg(feature = "axum")]
pub use serve_app::serve_app_and_worker;
pub use signal::shutdown_signal;
pub use worker::{RunningWorker, Worker, WorkerBuilder, WorkerReport};

pub use jobqueue_core;
