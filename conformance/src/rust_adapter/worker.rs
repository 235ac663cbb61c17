//! The Rust adapter's worker mode: the real `jobqueue` worker with the
//! conformance handlers, the ready line of ADAPTER.md once it fetches, and
//! a graceful stop on SIGTERM / SIGINT.

use std::io::Write;
use std::time::Duration;

use jobqueue::{Client, ClientConfig, Worker};
use serde_json::json;

use crate::rust_adapter::handlers::{Crash, Echo, Fail, HandlerState, Permanent, Record, Sleep};

/// The worker mode's settings (its command-line options).
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Redis URL.
    pub url: String,
    /// Key prefix.
    pub prefix: String,
    /// Queues served.
    pub queues: Vec<String>,
    /// Most jobs at once.
    pub concurrency: usize,
    /// Lease length.
    pub lease: Option<Duration>,
    /// Grace period of the graceful stop.
    pub shutdown_grace: Option<Duration>,
    /// The tag written by `conformance.record`.
    pub language: String,
}

/// Why the worker mode could not run.
#[derive(Debug, thiserror::Error)]
pub enum WorkerModeError {
    /// Connecting, or a Redis command, failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The client could not start.
    #[error("client: {0}")]
    Client(#[from] jobqueue::Error),
    /// The worker refused to start.
    #[error("worker: {0}")]
    Worker(#[from] jobqueue::WorkerError),
    /// Writing the ready line failed.
    #[error("stdout: {0}")]
    Stdout(#[from] std::io::Error),
}

/// Runs the worker until SIGTERM / SIGINT, then stops it gracefully.
pub async fn run(settings: WorkerSettings) -> Result<(), WorkerModeError> {
    let config = ClientConfig::new(&settings.url).prefix(&settings.prefix);
    let client = Client::with_config(config).await?;
    let handlers_redis = redis::Client::open(settings.url.as_str())?
        .get_multiplexed_async_connection()
        .await?;
    let state = HandlerState {
        redis: handlers_redis,
        language: settings.language.clone(),
    };
    let mut builder = Worker::builder(client)
        .state(state)
        .register::<Echo>()
        .register::<Record>()
        .register::<Fail>()
        .register::<Permanent>()
        .register::<Sleep>()
        .register::<Crash>()
        .queues(settings.queues.iter().cloned())
        .allow_unserved_queues()
        .concurrency(settings.concurrency);
    if let Some(lease) = settings.lease {
        builder = builder.lease(lease);
    }
    if let Some(grace) = settings.shutdown_grace {
        builder = builder.shutdown_grace(grace);
    }
    let running = builder.start().await?;
    let ready =
        json!({"ready": true, "worker_id": running.worker_id(), "language": settings.language});
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{ready}")?;
    stdout.flush()?;
    drop(stdout);
    jobqueue::shutdown_signal().await;
    let report = running.shutdown().await;
    tracing::info!(
        handed_back = report.handed_back,
        "conformance worker stopped"
    );
    Ok(())
}
