//! [`WorkerError`]: why a worker could not start.
//!
//! Once running, a worker never fails on its own: Redis errors are logged
//! and retried with backoff, and bad jobs are dead-lettered.

/// Errors from starting a worker.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// The settings are inconsistent.
    #[error("invalid worker configuration: {0}")]
    Config(String),
    /// The explicit queue list leaves out the queue of a registered job
    /// type: its jobs would never run here. List the queue, drop the
    /// `.queues(..)` call (a worker serves its job types' queues by
    /// default) or call `.allow_unserved_queues()`.
    #[error(
        "job type '{job_type}' is registered but its queue '{queue}' is not in the worker's queue list; \
         add it, drop .queues(..) to serve every registered queue, or call .allow_unserved_queues()"
    )]
    UnservedJobType {
        /// The job type.
        job_type: String,
        /// Its queue.
        queue: String,
    },
    /// The explicit queue list leaves out the queue of a cron entry.
    #[error(
        "cron entry '{entry}' enqueues to queue '{queue}', which is not in the worker's queue list; \
         add it, drop .queues(..) to serve every registered queue, or call .allow_unserved_queues()"
    )]
    UnservedCronEntry {
        /// The entry's name.
        entry: String,
        /// The queue its runs go to.
        queue: String,
    },
    /// The web server run beside the worker (`serve_app_and_worker`,
    /// feature `axum`) failed.
    #[error("the web server failed: {0}")]
    Server(std::io::Error),
    /// Redis or the data layout refused the start (unreachable, schema too new, …).
    #[error(transparent)]
    Core(#[from] jobqueue_core::Error),
}
