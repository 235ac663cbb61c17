//! The event subscriber: wake-ups, cancellations and limit changes over
//! Redis pub/sub.
//!
//! One dedicated connection subscribes to each served queue's events
//! channel. Scripts publish `r` when work appears in an empty queue, `s`
//! when the earliest scheduled run-at moves earlier, `p`/`u` on pause and
//! resume, `c<job id>` when an operator cancels a leased job, `l` when the
//! queue's flow limits change, `w` when a slot of the queue's running limit
//! freed while a worker waited for one (`wake_waiters.lua`). `w`, `r` and
//! `c` also end the wait of a queue its flow limits held back, so a limited
//! queue runs at its limit instead of polling. Wake-ups are hints: the fetcher and the
//! delayed-job promoter also poll slowly on their own, so a message lost
//! while reconnecting costs latency, never a job. After every (re)connect
//! both are woken, since messages may have been missed while disconnected.
//!
//! On a Redis Cluster the subscription sits on one node: the cluster bus
//! carries every `PUBLISH` to all nodes, so wake-ups from queues on other
//! primaries arrive too. Through Sentinel it follows the current primary.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use jobqueue_core::store::conn::open_pubsub;

use crate::loops::retry_backoff::RetryBackoff;
use crate::state::shared::Shared;

/// Listens until the background stop token fires.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut backoff = RetryBackoff::new(Duration::from_millis(100), Duration::from_secs(5));
    // Counts reconnects so a cluster subscriber moves on to the next node.
    let mut attempt = 0;
    loop {
        tokio::select! {
            result = listen(&shared, &mut backoff, attempt) => {
                attempt += 1;
                if let Err(err) = result {
                    tracing::warn!(error = %err, "lost the wake-up subscription; reconnecting");
                }
            }
            () = shared.stop_background.cancelled() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(backoff.next_delay()) => {}
            () = shared.stop_background.cancelled() => return,
        }
    }
}

async fn listen(
    shared: &Shared,
    backoff: &mut RetryBackoff,
    attempt: usize,
) -> Result<(), jobqueue_core::Error> {
    let mut pubsub = open_pubsub(&shared.redis_url, attempt, shared.credentials.as_ref()).await?;
    for queue in &shared.queues {
        pubsub
            .subscribe(queue.keys.events())
            .await
            .map_err(subscribe_error)?;
    }
    backoff.reset(Duration::from_millis(100));
    shared.redis_answers_again();
    shared.wake_promoter.notify_one();
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        match message.get_payload_bytes().first() {
            Some(b'r' | b'u' | b'w') => {
                let channel = message.get_channel_name();
                match shared
                    .queues
                    .iter()
                    .position(|q| q.keys.events() == channel)
                {
                    Some(index) => {
                        // `w`: a slot of the running limit freed while
                        // workers waited; `r`: a flow key became ready.
                        shared.queues[index].limits.release_hold();
                        shared.work_arrived(index);
                    }
                    None => shared.recheck_every_queue(),
                }
            }
            Some(b's') => shared.wake_promoter.notify_one(),
            // The queue's flow limits changed.
            Some(b'l') => {
                let channel = message.get_channel_name();
                if let Some(index) = shared
                    .queues
                    .iter()
                    .position(|q| q.keys.events() == channel)
                    && let Err(err) = crate::state::limits_loader::reload(shared, index).await
                {
                    tracing::warn!(error = %err, "could not reload flow limits; retrying at the next heartbeat");
                }
            }
            // `c<job id>`: an operator cancelled a leased job.
            Some(b'c') => {
                let id = std::str::from_utf8(&message.get_payload_bytes()[1..])
                    .ok()
                    .and_then(|text| text.parse().ok());
                if let Some(id) = id {
                    shared.running.cancel(id);
                }
                // The cancelled job no longer counts against the running
                // limit: a worker waiting for a slot may take one.
                let channel = message.get_channel_name();
                if let Some(index) = shared
                    .queues
                    .iter()
                    .position(|q| q.keys.events() == channel)
                    && shared.queues[index].limits.is_active()
                {
                    shared.queues[index].limits.release_hold();
                    shared.work_arrived(index);
                }
            }
            _ => {}
        }
    }
    Err(subscribe_error(redis::RedisError::from((
        redis::ErrorKind::Io,
        "pub/sub connection closed",
    ))))
}

fn subscribe_error(source: redis::RedisError) -> jobqueue_core::Error {
    jobqueue_core::Error::Redis {
        op: "subscribe",
        source,
    }
}
