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

#![warn(missing_docs)]

mod backoff;
mod cancellation;
mod completion;
mod config;
mod cron;
mod cron_result;
mod error;
mod events;
mod fetcher;
mod flow_limits;
mod health;
mod heartbeat;
mod held;
mod housekeeping;
mod identity;
mod inline;
mod job_watch;
mod metrics;
mod middleware;
mod queue_order;
mod reaper;
mod registry;
mod runner;
mod runtime;
mod scheduler;
mod scheduler_role;
mod shutdown;
mod status_report;
mod trace_link;
mod worker;

pub use config::{DEFAULT_LEASE, Prefetch, QueueOrder, WorkerConfig};
pub use error::WorkerError;
pub use inline::{InlineOutcome, InlineRun, InlineWorker};
pub use middleware::{Middleware, Next};
pub use scheduler_role::{RunningScheduler, Scheduler, SchedulerBuilder};
pub use shutdown::shutdown_signal;
pub use worker::{RunningWorker, Worker, WorkerBuilder, WorkerReport};

pub use jobqueue_core;
