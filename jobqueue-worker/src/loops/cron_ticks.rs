//! The cron loop: makes scheduler passes over the cron entries registered
//! on a worker or a [`crate::Scheduler`], enqueuing their ticks.
//!
//! Each pass enqueues, exactly once across all processes, the ticks due
//! within the lookahead (see `jobqueue_core::cron`), and says when the next
//! pass is needed; the task sleeps until the earliest of those. Future
//! ticks are enqueued as scheduled jobs, so their punctuality comes from
//! the delayed-job promoter (promoter.rs), not from this task waking on time.
//! Passes also happen at least every few seconds, so a pause, a resume or
//! a clock jump is noticed quickly.

use std::sync::Arc;
use std::time::Duration;

use jobqueue_core::cron::CronEntry;
use jobqueue_core::store::Store;
use tokio_util::sync::CancellationToken;

use crate::error::WorkerError;
use crate::loops::retry_backoff::RetryBackoff;

/// Longest time between passes.
const MAX_SLEEP: Duration = Duration::from_secs(5);

/// Checks the entries a builder collected: every one valid, no name twice
/// on one queue.
pub(crate) fn validate(
    entries: Vec<Result<CronEntry, String>>,
) -> Result<Vec<CronEntry>, WorkerError> {
    let entries = entries
        .into_iter()
        .collect::<Result<Vec<CronEntry>, _>>()
        .map_err(|err| WorkerError::Config(format!("invalid cron entry: {err}")))?;
    for (i, entry) in entries.iter().enumerate() {
        if entries[..i]
            .iter()
            .any(|e| e.name() == entry.name() && e.queue_name() == entry.queue_name())
        {
            return Err(WorkerError::Config(format!(
                "cron entry '{}' is registered twice on queue '{}'",
                entry.name(),
                entry.queue_name()
            )));
        }
    }
    Ok(entries)
}

/// Stores every entry's definition (at start).
pub(crate) async fn register(store: &Store, entries: &[CronEntry]) -> Result<(), WorkerError> {
    for entry in entries {
        entry.register(store).await?;
    }
    Ok(())
}

/// Makes passes until `stop` fires.
pub(crate) async fn run(store: Store, entries: Arc<[CronEntry]>, stop: CancellationToken) {
    let mut backoff = RetryBackoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        let sleep = match pass_all(&store, &entries).await {
            Ok(sleep) => {
                backoff.reset(Duration::from_millis(100));
                sleep
            }
            Err(err) => {
                tracing::warn!(error = %err, "cron pass failed; retrying");
                backoff.next_delay()
            }
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = stop.cancelled() => break,
        }
    }
}

/// One pass over every entry; returns how long until the next is needed.
async fn pass_all(store: &Store, entries: &[CronEntry]) -> Result<Duration, jobqueue_core::Error> {
    let mut sleep = MAX_SLEEP;
    for entry in entries {
        let pass = entry.run_pass(store).await?;
        if pass.enqueued > 0 || pass.skipped > 0 {
            tracing::debug!(
                entry = entry.name(),
                enqueued = pass.enqueued,
                skipped = pass.skipped,
                "cron ticks enqueued"
            );
        }
        if pass.skipped > 0 {
            tracing::warn!(
                entry = entry.name(),
                skipped = pass.skipped,
                "cron ticks missed while no scheduler ran were skipped (misfire policy)"
            );
        }
        if let Some(next) = pass.next_pass_ms {
            let until = u64::try_from(next.saturating_sub(pass.now_ms)).unwrap_or(0);
            sleep = sleep.min(Duration::from_millis(until));
        }
    }
    Ok(sleep)
}
