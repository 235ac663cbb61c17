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
//! ready list), a worker reaching Redis through Sentinel (not watched, see
//! [`watched`]) and a watcher reconnecting. A wake-up from both costs one
//! extra fetch that finds nothing.
//!
//! A head the fetch did not lease makes the wait return at once: a
//! malformed record `fetch.lua` put back at the tail because its key is
//! held, or one pushed while the queue was being paused. When the head
//! that woke the worker the time before (same id) is there again, the
//! watcher does not wake it but waits to be re-armed by the next fetch
//! that finds the queue drained (the periodic re-check's), and forgets
//! that head: a stuck head costs two fetches and two waits per idle poll,
//! never a loop. The same id can come back legitimately — a job handed
//! back (`handback.lua`, which publishes `r`) — and then the published
//! wake-up, or at worst the next idle poll, finds it. A wait that times
//! out also forgets the head (the list was empty meanwhile).
//!
//! Redis refusing `BLMOVE` (an ACL without it) stops the queue's watch
//! for good, with a warning; other errors are retried with a backoff, on
//! the same connection when Redis answered, on a new one when it did not.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jobqueue_core::store::RedisTopology;
use jobqueue_core::store::ready_watch::{ReadyWatch, WatchFailure};

use crate::loops::retry_backoff::RetryBackoff;
use crate::state::shared::Shared;

/// Most queues of one worker watched (each takes a connection).
pub(crate) const MOST_WATCHED_QUEUES: usize = 16;

/// The queues (indexes) the worker may watch: the first
/// [`MOST_WATCHED_QUEUES`] it serves, when the watch is on and Redis is
/// not reached through Sentinel (a Sentinel connection polls the sentinels
/// every second to follow the primary: one per watched queue would be 16
/// new connections a second per worker). A queue with flow limits is among
/// them but never armed (its fetches never find it drained); see
/// [`is_watching`] for what the worker reports.
pub(crate) fn watched(shared: &Shared) -> std::ops::Range<usize> {
    let sentinel = matches!(
        RedisTopology::parse(&shared.redis_url),
        Ok(RedisTopology::Sentinel { .. })
    );
    if shared.config.watch_ready && !sentinel {
        0..shared.queues.len().min(MOST_WATCHED_QUEUES)
    } else {
        0..0
    }
}

/// Whether the worker watches queue `index` now: one of [`watched`],
/// without flow limits, and not refused by Redis.
pub(crate) fn is_watching(shared: &Shared, index: usize) -> bool {
    watched(shared).contains(&index)
        && shared.queues.get(index).is_some_and(|queue| {
            !queue.limits.is_active() && !queue.watch_refused.load(Ordering::Relaxed)
        })
}

/// Watches queue `index` until the worker stops fetching.
pub(crate) async fn run(shared: Arc<Shared>, index: usize) {
    let Some(queue) = shared.queues.get(index) else {
        return;
    };
    let stop = shared.stop_fetching.clone();
    let mut backoff = RetryBackoff::new(Duration::from_millis(100), Duration::from_secs(5));
    let mut watch: Option<ReadyWatch> = None;
    // Whether the last attempt failed (the first failure of a streak is
    // logged as a warning, the rest at debug).
    let mut failing = false;
    // The id of the head whose push woke the fetcher last, until a wait
    // times out (the list was empty since).
    let mut last_head: Option<Vec<u8>> = None;
    loop {
        tokio::select! {
            () = queue.emptiness.watch_armed() => {}
            () = stop.cancelled() => return,
        }
        while queue.emptiness.is_known_empty() {
            let opened = match watch.as_mut() {
                Some(opened) => opened,
                None => {
                    let opening = tokio::select! {
                        opening = open(&shared) => opening,
                        () = stop.cancelled() => return,
                    };
                    match opening {
                        Ok(opened) => watch.insert(opened),
                        Err(err) => {
                            log_failure(&mut failing, &queue.name, &err);
                            if !pause(&stop, backoff.next_delay()).await {
                                return;
                            }
                            continue;
                        }
                    }
                }
            };
            let waited = tokio::select! {
                waited = opened.wait(&queue.keys) => waited,
                () = stop.cancelled() => return,
            };
            match waited {
                // Blocked the whole time: still empty, unless the periodic
                // re-check cleared the mark (its fetch re-arms the watch).
                Ok(None) => {
                    failing = false;
                    backoff.reset(Duration::from_millis(100));
                    last_head = None;
                }
                Ok(Some(head)) => {
                    failing = false;
                    backoff.reset(Duration::from_millis(100));
                    let id = head.get(..HEAD_ID_BYTES).unwrap_or(&head);
                    if last_head.take().as_deref() == Some(id) {
                        tracing::debug!(queue = %queue.name, "the head the last wake-up pointed at is still there; waiting to be re-armed");
                    } else {
                        last_head = Some(id.to_vec());
                        shared.work_arrived(index);
                    }
                    break;
                }
                Err(err) => match WatchFailure::of(&err) {
                    WatchFailure::Refused => {
                        queue.watch_refused.store(true, Ordering::Relaxed);
                        tracing::warn!(queue = %queue.name, error = %err, "Redis refuses BLMOVE: not watching this queue's ready list (idle workers wait for the published wake-up; allow BLMOVE, or turn the watch off with WorkerBuilder::watch_ready(false))");
                        return;
                    }
                    failure => {
                        if failure == WatchFailure::Lost {
                            watch = None;
                        }
                        log_failure(&mut failing, &queue.name, &err);
                        if !pause(&stop, backoff.next_delay()).await {
                            return;
                        }
                    }
                },
            }
        }
    }
}

/// The bytes of a record up to the end of its id (`{"id":"<36>"`): what
/// the stuck-head check compares.
const HEAD_ID_BYTES: usize = 43;

/// Logs a failed open or wait: a warning for the first of a streak, then
/// at debug level.
fn log_failure(failing: &mut bool, queue: &str, error: &jobqueue_core::Error) {
    if std::mem::replace(failing, true) {
        tracing::debug!(queue, %error, "the ready watch failed again");
    } else {
        tracing::warn!(queue, %error, "the ready watch failed; retrying (the published wake-up serves meanwhile)");
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
