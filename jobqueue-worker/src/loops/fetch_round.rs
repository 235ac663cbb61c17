//! One fetch round: a pass over the queues in the picker's order, leasing
//! up to the jobs wanted with one `fetch.lua` call per queue tried
//! (`fetch_limited.lua` on a queue with flow limits or keyed jobs).
//!
//! Before fetching from a queue whose last fetch failed, or when the
//! routine check is due, the round compares the queue's active hash with
//! the jobs this worker holds and hands back the ones it does not know
//! (see `state/held_jobs.rs`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use jobqueue_core::store::{FetchReply, FetchStatus};

use crate::run::leased::{Leased, leased_id};
use crate::state::shared::Shared;

/// What one fetch round leased, when a queue held back by its flow limits
/// may be asked again, and the error that cut the round short, if any (jobs
/// leased from earlier queues in the round are kept either way).
pub(crate) struct Round {
    pub(crate) leased: Vec<Leased>,
    pub(crate) limit_wait_until: Option<Instant>,
    pub(crate) error: Option<jobqueue_core::Error>,
}

/// One pass over the queues, leasing up to `want` jobs. Queues known to be
/// empty are skipped; a queue that yields fewer jobs than asked for is
/// marked empty until a wake-up says otherwise. A failed fetch ends the
/// round and marks its queue uncertain (see [`reconcile`]).
pub(crate) async fn fetch_round(shared: Arc<Shared>, order: Vec<usize>, want: usize) -> Round {
    let mut leased = Vec::with_capacity(want);
    let mut limit_wait_until: Option<Instant> = None;
    for index in order {
        let remaining = want - leased.len();
        if remaining == 0 {
            break;
        }
        let queue = &shared.queues[index];
        if queue.emptiness.is_known_empty() && !queue.reconcile_due() {
            continue;
        }
        let limited = queue.limits.is_active();
        if limited && let Some(until) = queue.limits.held_until() {
            limit_wait_until = Some(limit_wait_until.map_or(until, |t| t.min(until)));
            continue;
        }
        let generation = queue.emptiness.generation();
        let fetch_started = Instant::now();
        let reply = match fetch_queue(&shared, index, limited, remaining).await {
            Ok(reply) => reply,
            Err(error) => {
                queue.fetch_uncertain.store(true, Ordering::Release);
                return Round {
                    leased,
                    limit_wait_until,
                    error: Some(error),
                };
            }
        };
        crate::metrics::fetched(&queue.name, reply.records.len(), fetch_started.elapsed());
        if let FetchStatus::Limited { retry_after_ms } = reply.status {
            let until = queue
                .limits
                .hold_for(Duration::from_millis(retry_after_ms.max(1)));
            limit_wait_until = Some(limit_wait_until.map_or(until, |t| t.min(until)));
            continue;
        }
        if reply.records.len() < remaining && !limited {
            // Drained (or paused: resuming publishes a wake-up too). A
            // limited queue may have held jobs back: not known empty.
            queue.emptiness.mark_drained(generation);
            if reply.status == FetchStatus::Ok {
                queue.emptiness.arm_watch();
            }
        }
        leased.extend(reply.records.into_iter().map(|record| Leased {
            queue: index,
            keyed: limited && jobqueue_core::wire::record::record_flow_key(&record).is_some(),
            record,
        }));
    }
    Round {
        leased,
        limit_wait_until,
        error: None,
    }
}

/// Leases up to `max` jobs of queue `index` (heartbeating first when this
/// worker holds no lease yet), first handing back what a failed earlier
/// fetch may have left behind, and notes the leased ids as held.
async fn fetch_queue(
    shared: &Shared,
    index: usize,
    limited: bool,
    max: usize,
) -> Result<FetchReply, jobqueue_core::Error> {
    let queue = &shared.queues[index];
    if queue.reconcile_due() {
        reconcile(shared, index).await?;
        queue.reconciled(shared.config.lease);
    }
    let mut reply = fetch_once(shared, index, limited, max).await?;
    if reply.status == FetchStatus::NoLease {
        // First fetch before the first heartbeat landed, or the lease
        // lapsed (e.g. Redis was unreachable longer than the lease).
        shared
            .store
            .heartbeat(&queue.keys, &shared.worker_id, shared.config.lease)
            .await?;
        reply = fetch_once(shared, index, limited, max).await?;
    }
    shared
        .held
        .add(index, reply.records.iter().map(|record| leased_id(record)));
    Ok(reply)
}

/// One fetch call on queue `index`: `fetch_limited.lua` when the queue
/// has flow limits, plain `fetch.lua` otherwise.
async fn fetch_once(
    shared: &Shared,
    index: usize,
    limited: bool,
    max: usize,
) -> Result<FetchReply, jobqueue_core::Error> {
    let queue = &shared.queues[index];
    if limited {
        let mut workers = queue.limits.take_workers();
        let reply = shared
            .store
            .fetch_limited(
                &queue.keys,
                &queue.active_key,
                &shared.worker_id,
                max,
                shared.config.limit_recheck_interval,
                &mut workers,
            )
            .await;
        queue.limits.put_workers(workers);
        reply
    } else {
        shared
            .store
            .fetch(&queue.keys, &queue.active_key, &shared.worker_id, max)
            .await
    }
}

/// Hands back the jobs in this worker's active hash on queue `index` that
/// it does not hold: what a fetch whose reply was lost leased to it, or a
/// job whose acknowledgement a failover lost. Jobs it does hold (buffered,
/// running, or with their outcome on the way) are left alone. Runs in the
/// fetch path, so no fetch of this worker is in flight meanwhile.
async fn reconcile(shared: &Shared, index: usize) -> Result<(), jobqueue_core::Error> {
    let queue = &shared.queues[index];
    let found = shared.store.leased_ids(&queue.active_key).await?;
    let orphans = shared.held.unknown(index, found);
    if orphans.is_empty() {
        return Ok(());
    }
    let returned = shared
        .store
        .handback(&queue.keys, &shared.worker_id, &orphans, false)
        .await?;
    shared.slots_freed(&shared.store, index).await;
    tracing::warn!(
        queue = %queue.name,
        jobs = returned,
        "jobs leased to this worker that it does not hold (a lost fetch reply, or an acknowledgement lost in a failover); handed them back"
    );
    Ok(())
}
