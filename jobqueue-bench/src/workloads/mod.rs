//! One module per workload.

pub(crate) mod delayed;
pub(crate) mod drain;
pub(crate) mod enqueue;
pub(crate) mod latency;
pub(crate) mod memory;

use jobqueue_core::{Client, ClientConfig};

/// A client under a fresh run prefix; returns it with the prefix.
pub(crate) async fn run_client(config: &ClientConfig) -> Result<(Client, String), String> {
    let prefix = crate::keyspace::run_prefix(config.prefix_str());
    let client = Client::with_config(config.clone().prefix(&prefix))
        .await
        .map_err(|e| e.to_string())?;
    Ok((client, prefix))
}

/// Logs progress on stderr.
pub(crate) fn progress(message: impl std::fmt::Display) {
    eprintln!("[bench] {message}");
}
