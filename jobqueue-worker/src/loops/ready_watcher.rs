//! The ready watchers: one per watched queue, waking the fetcher in the
//! same hop as the push that ends the queue's emptiness.
//!
//! When a fetch finds a queue drained and open (not paused; a queue with
//! flow limits is never marked drained), it arms the queue's watcher, which
//! then waits in a blocking `BLMOVE` on the queue's ready list
//! ([`ReadyWatch`]: the record is moved from the head back to the head, so
//! the list is unchanged and no job ever leaves it). The next push, by any
//! producer, serves that wait at once; the watcher marks the queue
//! non-empty and wakes the fetcher, whose `fetch.lua` leases the job under
//! every usual rule (pause, priorities, weighted and strict queue order).
//! A busy worker never gets here: its fetches do not find the queue
//! drained, so it keeps the batched fetch path.
//!
//! The published `r` wake-up (`loops/event_subscriber.rs`) stays: it
//! serves workers that do not watch, queues beyond the first
//! [`MOST_WATCHED_QUEUES`] served, prioritised jobs (which do not enter the
//! ready list) and a watcher reconnecting. A wake-up from both costs one
//! extra fetch that finds nothing.
//!
//! A head the fetch did not lease — a record `fetch.lua` put back because
//! its id is held (a foreign producer's duplicate), or one pushed while the
//! queue was being paused — makes the wait return at once. When the same
//! head woke the worker the time before, the watcher does not wake it
//! again but waits to be re-armed (by the periodic re-check's fetch), so a
//! stuck head costs one fetch per idle poll, never a loop.

use std::sync::Arc;
use std::time::Duration;

use jobqueue_core::store::ready_watch::ReadyWatch;

use crate::loops::retry_backoff::RetryBackoff;
use crate::state::shared::Shared;

/// Most queues of one worker watched (each takes a connection).
pub(crate) const MOST_WATCHED_QUEUES: usize = 16;

/// The queues (indexes) the worker watches: the first
/// [`MOST_WATCHED_QUEUES`] it serves, when the watch is on. A queue with
/// flow limits is among them but never armed (its fetches never find it
/// drained).
pub(crate) fn watched(shared: &Shared) -> std::ops::Range<usize> {
    if shared.config.watch_ready {
        0..shared.queues.len().min(MOST_WATCHED_QUEUES)
    } else {
        0..0
    }
}

/// Watches queue `index` until the worker stops fetching.
pub(crate) async fn run(shared: Arc<Shared>, index: usize) {
    let Some(queue) = shared.queues.get(index) else {
        return;
    };
    let stop = shared.stop_fetching.clone();
    let mut backoff = RetryBackoff::new(Duration::from_millis(100), Duration::from_secs(5));
    let mut watch: Option<ReadyWatch> = None;
    // The head whose push woke the fetcher last, until it comes back.
    let mut last_head: Option<Vec<u8>> = None;
    loop {
        tokio::select! {
            () = queue.emptiness.watch_armed() => {}
            () = stop.cancelled() => return,
        }
        while queue.emptiness.is_known_empty() {
            let opened = match watch.as_mut() {
                Some(opened) => opened,
                None => match open(&shared).await {
                    Ok(opened) => watch.insert(opened),
                    Err(err) => {
                        tracing::debug!(queue = %queue.name, error = %err, "could not open the ready watch; the published wake-up serves meanwhile");
                        if !pause(&stop, backoff.next_delay()).await {
                            return;
                        }
                        continue;
                    }
                },
            };
            let waited = tokio::select! {
                waited = opened.wait(&queue.keys) => waited,
                () = stop.cancelled() => return,
            };
            match waited {
                // Blocked the whole time: still empty, unless the periodic
                // re-check cleared the mark (its fetch re-arms the watch).
                Ok(None) => {}
                Ok(Some(head)) => {
                    backoff.reset(Duration::from_millis(100));
                    if last_head.take().as_deref() == Some(head.as_slice()) {
                        tracing::debug!(queue = %queue.name, "the head the last wake-up pointed at is still there; waiting for the periodic re-check");
                    } else {
                        last_head = Some(head);
                        shared.work_arrived(index);
                    }
                    break;
                }
                Err(err) => {
                    watch = None;
                    tracing::debug!(queue = %queue.name, error = %err, "the ready watch failed; reconnecting");
                    if !pause(&stop, backoff.next_delay()).await {
                        return;
                    }
                }
            }
        }
    }
}

/// Longest single wait: a connection that died without a word (a
/// primary gone after a failover) is noticed within it plus the response
/// timeout, whatever the idle poll.
const LONGEST_WAIT: Duration = Duration::from_secs(10);

/// Opens a watch on the worker's Redis, blocking one idle poll (at most
/// [`LONGEST_WAIT`]) at a time.
async fn open(shared: &Shared) -> Result<ReadyWatch, jobqueue_core::Error> {
    ReadyWatch::open(
        &shared.redis_url,
        shared.connection_settings.clone(),
        shared.config.idle_poll_interval.min(LONGEST_WAIT),
    )
    .await
}

/// Sleeps `delay`; false when the worker stopped fetching meanwhile.
async fn pause(stop: &tokio_util::sync::CancellationToken, delay: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        () = stop.cancelled() => false,
    }
}
