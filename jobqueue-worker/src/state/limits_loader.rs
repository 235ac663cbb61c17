//! Loading a queue's flow limits from Redis into what the worker knows
//! of them (`flow_limits.rs`).
//!
//! Loaded at start, again when a `l` message arrives on the queue's events
//! channel, and at every heartbeat in case a message was lost.

use crate::state::shared::Shared;

/// Reloads the limits of queue `index` after a `l` message: the values
/// changed, so whatever held the queue back no longer holds.
pub(crate) async fn reload(shared: &Shared, index: usize) -> Result<(), jobqueue_core::Error> {
    load(shared, index, true).await
}

/// Reloads the limits of every queue (start-up, heartbeat); wakes the
/// fetcher only for a queue whose limits were switched on or off.
pub(crate) async fn reload_all(shared: &Shared) -> Result<(), jobqueue_core::Error> {
    for index in 0..shared.queues.len() {
        load(shared, index, false).await?;
    }
    Ok(())
}

async fn load(shared: &Shared, index: usize, changed: bool) -> Result<(), jobqueue_core::Error> {
    let queue = &shared.queues[index];
    // The control connection: the heartbeat reloads limits too.
    let limits = shared.control.queue_limits(&queue.keys).await?;
    let keyed = shared.control.has_keyed_jobs(&queue.keys).await?;
    let active = keyed || !limits.is_unlimited();
    if changed || active != queue.limits.is_active() {
        tracing::info!(queue = %queue.name, ?limits, keyed, "flow limits loaded");
        queue.limits.set_active(active);
        shared.work_arrived(index);
    }
    Ok(())
}
