//! [`TestingError`]: what can go wrong in a test helper.

/// Errors of the test helpers. Assertions panic instead (they are test
/// failures); these are the problems a test cannot go on after.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestingError {
    /// A jobqueue call failed (Redis unreachable, invalid name, …).
    #[error(transparent)]
    Core(#[from] jobqueue_core::Error),
    /// The inline worker could not start (no job type registered, …).
    #[error(transparent)]
    Worker(#[from] jobqueue_worker::WorkerError),
    /// A raw Redis command of the helpers failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// An enqueued job of the asked type does not decode into it.
    #[error("job {id} of type '{job_type}' does not decode: {message}")]
    Decode {
        /// The job id.
        id: String,
        /// The job type name.
        job_type: String,
        /// What serde said.
        message: String,
    },
    /// A drain ran its limit of jobs and work was still left (a job that
    /// keeps enqueueing jobs, or keeps failing with retries enabled).
    #[error(
        "drain stopped after {limit} jobs with work still left; raise DrainOptions::max_jobs if that is expected"
    )]
    DrainLimit {
        /// The limit that was reached.
        limit: usize,
    },
}
