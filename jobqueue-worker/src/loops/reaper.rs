//! The reaper: finds workers whose lease lapsed and puts their jobs back.
//!
//! Every live worker runs one, every `reap_interval` (with jitter, so many
//! workers do not all look at the same moment). Lapsed is decided on the
//! Redis clock inside the scripts, and the reclaim is atomic, so a job is
//! reclaimed once however many reapers race, and never from a worker whose
//! lease is alive. A dead worker's jobs are back in the queue within
//! lease + reap interval. Runs on the housekeeping thread (see
//! `housekeeping.rs`).

use std::sync::Arc;
use std::time::Duration;

use crate::state::shared::Shared;

/// Most lapsed workers handled per queue per round.
const WORKERS_PER_ROUND: usize = 20;

/// Reaps until the background stop token fires.
pub(crate) async fn run(shared: Arc<Shared>) {
    loop {
        let base = shared.config.reap_interval;
        let jitter = Duration::from_millis(fastrand::u64(..=base.as_millis() as u64 / 4));
        tokio::select! {
            () = tokio::time::sleep(base - base / 8 + jitter) => {}
            () = shared.stop_background.cancelled() => break,
        }
        if let Err(err) = reap_once(&shared).await {
            tracing::warn!(error = %err, "looking for lapsed leases failed; will retry");
        }
    }
}

/// One pass over the queues. Returns how many jobs were put back.
///
/// Each pass also sweeps the queue's release outbox: parents whose end was
/// recorded by a worker that died before telling their dependents.
pub(crate) async fn reap_once(shared: &Shared) -> Result<u64, jobqueue_core::Error> {
    let mut total = 0;
    for (index, queue) in shared.queues.iter().enumerate() {
        let expired = shared.control.batch_expire_held(&queue.keys).await?;
        if expired > 0 {
            tracing::warn!(queue = %queue.name, batches = expired, "cancelled child batches whose producer did not seal them within their open timeout");
        }
        let swept = shared.control.sweep_releases(&queue.keys).await?;
        if swept > 0 {
            tracing::info!(queue = %queue.name, parents = swept, "told dependents of parents left by another worker");
        }
        let lapsed = shared
            .control
            .expired_leases(&queue.keys, WORKERS_PER_ROUND)
            .await?;
        for worker in lapsed {
            if *worker == *shared.worker_id {
                // Our own lease lapsed (Redis was unreachable for longer
                // than the lease): our heartbeat renews it; the jobs are
                // still running here.
                continue;
            }
            if let Some(moved) = shared.control.reclaim(&queue.keys, &worker).await? {
                total += moved;
                if moved > 0 {
                    shared.slots_freed(&shared.control, index).await;
                    tracing::warn!(
                        queue = %queue.name,
                        lapsed_worker = %worker,
                        jobs = moved,
                        "worker stopped heartbeating; its jobs are back in the queue"
                    );
                }
            }
        }
    }
    shared.control.prune_worker_registry().await?;
    Ok(total)
}
