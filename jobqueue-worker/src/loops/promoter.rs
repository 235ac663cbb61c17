//! The delayed-job promoter: makes delayed jobs and retries ready exactly
//! when due.
//!
//! No fixed poll: after each promotion `promote.lua` returns when the next
//! job is due, measured on the Redis clock, and the promoter sleeps exactly
//! that long. A job enqueued with an earlier run-at wakes it through pub/sub
//! so it re-arms its timer. Promotion itself decides "due" on the Redis
//! clock, so a job never runs early even from a host whose clock is off,
//! and it is atomic, so with any number of promoters each job is promoted
//! exactly once. A promotion here wakes this worker's fetcher directly.
//! Runs on the housekeeping thread (see `housekeeping.rs`).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::loops::retry_backoff::RetryBackoff;
use crate::state::shared::Shared;

/// Most jobs promoted per script call.
const PROMOTE_BATCH: usize = 1000;

/// Longest sleep between promotions, in case a wake-up was missed.
const MAX_SLEEP: Duration = Duration::from_secs(5);

/// Promotes until the fetch stop token fires.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut next_check: Vec<Instant> = vec![Instant::now(); shared.queues.len()];
    let mut backoff = RetryBackoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        let now = Instant::now();
        let mut failed = false;
        for (index, queue) in shared.queues.iter().enumerate() {
            if next_check[index] > now {
                continue;
            }
            match promote_due(&shared, index).await {
                Ok(wait) => next_check[index] = Instant::now() + wait.min(MAX_SLEEP),
                Err(err) => {
                    failed = true;
                    tracing::warn!(queue = %queue.name, error = %err, "promoting due jobs failed; retrying");
                }
            }
        }
        let wake_at = if failed {
            Instant::now() + backoff.next_delay()
        } else {
            backoff.reset(Duration::from_millis(100));
            next_check
                .iter()
                .min()
                .copied()
                .unwrap_or_else(|| Instant::now() + MAX_SLEEP)
        };
        tokio::select! {
            () = sleep_precisely_until(wake_at) => {}
            () = shared.wake_promoter.notified() => {
                // The earliest run-at may have moved earlier: look again now.
                next_check.iter_mut().for_each(|at| *at = Instant::now());
            }
            () = shared.stop_fetching.cancelled() => break,
        }
    }
}

/// Sleeps until `deadline` to within a fraction of a millisecond. The
/// runtime's timer has 1 ms ticks and rounds up, which alone would make
/// every delayed job up to a millisecond late; the last stretch is slept on
/// a blocking thread, whose sleep is precise.
async fn sleep_precisely_until(deadline: Instant) {
    const TIMER_SLACK: Duration = Duration::from_millis(2);
    if deadline > Instant::now() + TIMER_SLACK {
        tokio::time::sleep_until(deadline - TIMER_SLACK).await;
    }
    let remaining = deadline.saturating_duration_since(Instant::now());
    if !remaining.is_zero() {
        let slept = tokio::task::spawn_blocking(move || std::thread::sleep(remaining)).await;
        if slept.is_err() {
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// Promotes everything due on one queue; returns how long until the next
/// job is due (or `MAX_SLEEP` when none is scheduled).
async fn promote_due(shared: &Shared, index: usize) -> Result<Duration, jobqueue_core::Error> {
    let queue = &shared.queues[index];
    loop {
        let reply = shared.control.promote(&queue.keys, PROMOTE_BATCH).await?;
        tracing::debug!(queue = %queue.name, moved = reply.moved, next_due_in = ?reply.until_next_due(), "promoted");
        if reply.moved > 0 {
            shared.work_arrived(index);
        }
        if reply.moved < PROMOTE_BATCH as u64 {
            return Ok(reply.until_next_due().unwrap_or(MAX_SLEEP));
        }
    }
}
