//! The check the commands that act on a named queue make first.

use jobqueue_core::Client;

use super::exit::{CliError, CliResult, EXIT_NOT_FOUND};

/// Fails with exit code 3 unless `queue` is a known queue.
pub(crate) async fn known_queue(client: &Client, queue: &str) -> CliResult {
    if client
        .admin()
        .queue_names()
        .await?
        .iter()
        .any(|q| q == queue)
    {
        Ok(())
    } else {
        Err(CliError::new(
            EXIT_NOT_FOUND,
            format!("no queue named {queue:?}"),
        ))
    }
}
