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
    /// Redis or the data layout refused the start (unreachable, schema too new, …).
    #[error(transparent)]
    Core(#[from] jobqueue_core::Error),
}
