//! Heartbeats: renew this worker's leases and publish its info.
//!
//! Runs on the housekeeping thread with its own connection (see
//! `housekeeping.rs`), so a job blocking the application's threads cannot
//! let the leases lapse.
//!
//! Every `heartbeat_interval` the worker pushes its lease deadline on each
//! queue to now + lease (Redis clock) and rewrites its info hash (with a
//! TTL, so a killed worker vanishes from the dashboard on its own). A lease
//! found missing means it lapsed and its jobs were reclaimed by another
//! process: logged loudly, since those jobs may now run twice. A beat that
//! meets a connection cut since the last one is sent again at once (once),
//! on the reconnected connection. A beat that succeeds after failed ones
//! makes the fetcher ask every queue at once (wake-ups may have been lost
//! meanwhile).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use jobqueue_core::WorkerInfo;

use crate::state::shared::Shared;

/// Beats until the background stop token fires.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut failing = false;
    let mut beat_again_at_once = false;
    loop {
        let retrying = std::mem::take(&mut beat_again_at_once);
        let pause = match beat(&shared, false).await {
            Ok(()) => {
                shared.beat_succeeded();
                if std::mem::take(&mut failing) {
                    // Redis answers again after an outage or a failover,
                    // during which wake-ups may have been lost (an enqueue
                    // whose reply was lost publishes none): ask every
                    // queue now, not at the next periodic poll.
                    tracing::info!("Redis answers again; looking at every queue");
                    shared.redis_answers_again();
                }
                shared.config.heartbeat_interval
            }
            Err(err) if err.connection_dropped() && !retrying => {
                // The connection was cut since the last beat; the next call
                // reconnects. Beat again now, not an interval later: when
                // cuts come more often than beats, every beat would meet a
                // freshly cut connection and the lease would lapse.
                failing = true;
                beat_again_at_once = true;
                tracing::debug!(error = %err, "heartbeat met a dropped connection; beating again at once");
                Duration::ZERO
            }
            Err(err) => {
                failing = true;
                tracing::warn!(error = %err, "heartbeat failed; retrying");
                shared.config.heartbeat_interval.min(Duration::from_secs(1))
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = shared.stop_background.cancelled() => break,
        }
    }
}

/// Renews every lease and the info hash once. `first` marks the beat at
/// start-up, when a missing lease is expected.
pub(crate) async fn beat(shared: &Shared, first: bool) -> Result<(), jobqueue_core::Error> {
    for queue in &shared.queues {
        let existed = shared
            .control
            .heartbeat(&queue.keys, &shared.worker_id, shared.config.lease)
            .await?;
        if !existed && !first {
            tracing::warn!(
                queue = %queue.name,
                worker = %shared.worker_id,
                "this worker's lease had lapsed and its jobs were put back in the queue \
                 (Redis unreachable or the process stalled longer than the lease); jobs it \
                 is still running may run twice"
            );
        }
    }
    if !first {
        // In case a limits-changed message was lost.
        crate::state::limits_loader::reload_all(shared).await?;
    }
    publish_info(shared).await
}

/// Writes the worker's info hash and registry entry.
pub(crate) async fn publish_info(shared: &Shared) -> Result<(), jobqueue_core::Error> {
    let now = Utc::now();
    let info = WorkerInfo {
        id: shared.worker_id.to_string(),
        host: shared.host.clone(),
        pid: std::process::id(),
        queues: shared.queues.iter().map(|q| q.name.to_string()).collect(),
        watching: shared
            .queues
            .iter()
            .enumerate()
            .filter(|(index, _)| crate::loops::ready_watcher::is_watching(shared, *index))
            .map(|(_, queue)| queue.name.to_string())
            .collect(),
        concurrency: u32::try_from(shared.config.concurrency).unwrap_or(u32::MAX),
        busy: u32::try_from(shared.busy()).unwrap_or(u32::MAX),
        started_at: shared.started_at,
        last_beat_at: now,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        language: jobqueue_core::wire::worker_info::RUST.to_owned(),
        stopping: shared.stop_fetching.is_cancelled(),
    };
    let ttl_ms = u64::try_from(shared.config.lease.as_millis()).unwrap_or(u64::MAX);
    shared
        .control
        .publish_worker_info(
            &shared.worker_id,
            &info.to_fields(),
            ttl_ms,
            now.timestamp_millis(),
        )
        .await
}

/// Removes the worker's info at a clean exit.
pub(crate) async fn unpublish_info(shared: &Shared) -> Result<(), jobqueue_core::Error> {
    shared
        .control
        .unpublish_worker_info(&shared.worker_id)
        .await
}
