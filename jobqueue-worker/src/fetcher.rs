//! The fetch loop: lease jobs when slots are free, start each in its own task.
//!
//! Jobs are leased in batches with one `fetch.lua` call per queue tried (in
//! the order of the queue picker), as many as there are free slots plus the
//! prefetch allowance (see [`Prefetch`]), at most `max_fetch_batch`. Leased
//! jobs wait in a small local buffer and start the moment a slot frees,
//! while the next fetch is already on the wire, so short jobs never wait
//! for a round trip.
//!
//! When a queue round finds nothing the loop goes idle until a wake-up
//! arrives over pub/sub (new jobs in an empty queue, resume, a due job
//! promoted by this worker). Wake-ups are hints that can be lost (an
//! enqueue whose reply was lost in an outage never publishes one, and a
//! queue that stays non-empty gets no further one), so every
//! `idle_poll_interval` the loop forgets which queues it found empty and
//! asks them all again — busy or idle: a busy worker must not leave a job
//! whose wake-up was lost waiting behind other queues' work. An idle
//! worker costs Redis nothing but that periodic poll. A failed fetch also
//! forgets them: Redis trouble is when wake-ups go missing. After failed
//! fetches the loop backs off (up to 5 s), but when the heartbeat or the
//! wake-up subscription finds Redis answering again it stops backing off
//! and asks every queue at once, so a failover delays jobs by the failover
//! itself, not by the backoff that followed it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use jobqueue_core::store::FetchStatus;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::backoff::RetryBackoff;
use crate::completion::Finished;
use crate::config::Prefetch;
use crate::queue_order::QueuePicker;
use crate::runner::{self, Leased, Outcome};
use crate::runtime::Shared;

type FetchFuture = BoxFuture<'static, Round>;

/// What one fetch round leased, when a queue held back by its flow limits
/// may be asked again, and the error that cut the round short, if any (jobs
/// leased from earlier queues in the round are kept either way).
struct Round {
    leased: Vec<Leased>,
    limit_wait_until: Option<Instant>,
    error: Option<jobqueue_core::Error>,
}

/// Runs until `stop_fetching` fires; then hands unstarted jobs back.
pub(crate) async fn run(
    shared: Arc<Shared>,
    finished: mpsc::UnboundedSender<Finished>,
    jobs: tokio_util::task::TaskTracker,
) {
    let picker = QueuePicker::new(shared.config.queues.clone());
    let mut backoff = RetryBackoff::new(Duration::from_millis(100), Duration::from_secs(5));
    let mut buffer: VecDeque<Leased> = VecDeque::new();
    let mut in_flight: Option<(FetchFuture, Instant)> = None;
    let mut idle = false;
    let mut retry_at: Option<Instant> = None;
    // While idle because flow limits held every queue back: when to look again.
    let mut limit_wake: Option<Instant> = None;
    // Moving average of a fetch round trip, µs.
    let mut fetch_time_us: u64 = 200;
    // The periodic re-check of queues known to be empty (see the module docs).
    let mut recheck = tokio::time::interval_at(
        tokio::time::Instant::now() + shared.config.idle_poll_interval,
        shared.config.idle_poll_interval,
    );
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        if in_flight.is_none() && !idle && retry_at.is_none() {
            let free = shared.slots.available_permits();
            let want = (free + prefetch_target(&shared, fetch_time_us))
                .saturating_sub(buffer.len())
                .min(shared.config.max_fetch_batch);
            if want > 0 {
                let round = fetch_round(shared.clone(), picker.next_round(), want).boxed();
                in_flight = Some((round, Instant::now()));
            }
        }
        // Nothing to start, nothing on the wire, and neither idle nor backing
        // off: every slot is busy, so wait for one to free before fetching.
        // (While backing off, waiting here would spin: a free slot is not
        // what the loop waits for then.)
        let waiting_for_slot =
            buffer.is_empty() && in_flight.is_none() && !idle && retry_at.is_none();
        tokio::select! {
            biased;
            () = shared.stop_fetching.cancelled() => break,
            permit = shared.slots.clone().acquire_owned(), if !buffer.is_empty() || waiting_for_slot => {
                let Ok(permit) = permit else { break };
                match buffer.pop_front() {
                    Some(job) => {
                        jobs.spawn(run_job(shared.clone(), job, permit, finished.clone()));
                        crate::metrics::slots(shared.busy(), shared.config.concurrency);
                    }
                    // A slot freed: loop round to fetch for it.
                    None => drop(permit),
                }
            }
            result = poll_in_flight(&mut in_flight), if in_flight.is_some() => {
                let (result, started) = result;
                in_flight = None;
                let micros = started.elapsed().as_micros() as u64;
                fetch_time_us = (fetch_time_us * 7 + micros) / 8;
                let Round { leased, limit_wait_until, error } = result;
                let got_any = !leased.is_empty();
                buffer.extend(leased);
                match error {
                    None => {
                        tracing::trace!(leased = buffer.len(), "fetch round done");
                        backoff.reset(Duration::from_millis(100));
                        idle = !got_any;
                        limit_wake = if idle { limit_wait_until } else { None };
                    }
                    Some(err) => {
                        // Wake-ups published meanwhile may be lost: ask
                        // every queue once Redis answers again.
                        shared.forget_emptiness();
                        let delay = backoff.next_delay();
                        tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "fetch failed; retrying");
                        retry_at = Some(Instant::now() + delay);
                    }
                }
            }
            () = sleep_until_retry(retry_at), if retry_at.is_some() => retry_at = None,
            // Redis answers again (a failover completed): no need to wait
            // out the backoff of the fetches that failed meanwhile.
            () = shared.redis_recovered.notified(), if retry_at.is_some() => retry_at = None,
            () = sleep_until_retry(limit_wake), if idle && limit_wake.is_some() => {
                limit_wake = None;
                idle = false;
            }
            () = shared.wake_fetcher.notified(), if idle => idle = false,
            _ = recheck.tick() => {
                // Look at every queue again, in case a wake-up was lost.
                tracing::trace!("periodic re-check of empty queues");
                shared.forget_emptiness();
                idle = false;
            }
        }
    }
    hand_back_unstarted(&shared, buffer).await;
}

/// How many jobs to hold beyond the free slots.
///
/// Auto: enough to keep every slot busy for two fetch round trips — the
/// jobs the slots finish while a fetch is on the wire, twice over —
/// capped at one fetch batch; and none at all once jobs take longer than a
/// round trip, when prefetching would only park jobs here that another
/// worker could be running.
fn prefetch_target(shared: &Shared, fetch_time_us: u64) -> usize {
    match shared.config.prefetch {
        Prefetch::Fixed(n) => n,
        Prefetch::Auto => {
            let job_time_us = shared
                .job_time_us
                .load(std::sync::atomic::Ordering::Relaxed)
                .max(1);
            if job_time_us >= fetch_time_us {
                return 0;
            }
            let per_round_trip = fetch_time_us / job_time_us;
            let target = per_round_trip
                .saturating_mul(2 * shared.config.concurrency as u64)
                .min(shared.config.max_fetch_batch as u64);
            usize::try_from(target).unwrap_or(shared.config.max_fetch_batch)
        }
    }
}

async fn poll_in_flight(in_flight: &mut Option<(FetchFuture, Instant)>) -> (Round, Instant) {
    match in_flight {
        Some((future, started)) => (future.await, *started),
        None => std::future::pending().await,
    }
}

async fn sleep_until_retry(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// One pass over the queues, leasing up to `want` jobs. Queues known to be
/// empty are skipped; a queue that yields fewer jobs than asked for is
/// marked empty until a wake-up says otherwise. A failed fetch ends the
/// round and marks its queue uncertain (see [`reconcile`]).
async fn fetch_round(shared: Arc<Shared>, order: Vec<usize>, want: usize) -> Round {
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
) -> Result<jobqueue_core::store::FetchReply, jobqueue_core::Error> {
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
    shared.held.add(
        index,
        reply.records.iter().map(|record| runner::leased_id(record)),
    );
    Ok(reply)
}

/// One fetch call on queue `index`: `fetch_limited.lua` when the queue
/// has flow limits, plain `fetch.lua` otherwise.
async fn fetch_once(
    shared: &Shared,
    index: usize,
    limited: bool,
    max: usize,
) -> Result<jobqueue_core::store::FetchReply, jobqueue_core::Error> {
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
    let found: Vec<Vec<u8>> = redis::cmd("HKEYS")
        .arg(&queue.active_key)
        .query_async(&mut shared.store.connection())
        .await
        .map_err(|source| jobqueue_core::Error::Redis {
            op: "reconcile_fetch",
            source,
        })?;
    let orphans = shared.held.unknown(index, found);
    if orphans.is_empty() {
        return Ok(());
    }
    let returned = shared
        .store
        .handback(&queue.keys, &shared.worker_id, &orphans, false)
        .await?;
    tracing::warn!(
        queue = %queue.name,
        jobs = returned,
        "jobs leased to this worker that it does not hold (a lost fetch reply, or an acknowledgement lost in a failover); handed them back"
    );
    Ok(())
}

/// Runs one job in its own task and reports the outcome.
async fn run_job(
    shared: Arc<Shared>,
    job: Leased,
    permit: OwnedSemaphorePermit,
    finished: mpsc::UnboundedSender<Finished>,
) {
    let started = Instant::now();
    // The run's future is large (decode, middleware, the job's own future):
    // boxed once here, it is not copied into and through this task's state
    // (halved the worker's memcpy in w1, about 10% of its instructions).
    let (outcome, after) = tokio::select! {
        ran = Box::pin(runner::run(&shared, &job)) => ran,
        // Shutdown gave up on this job: drop it; it is handed back.
        () = shared.abort_jobs.cancelled() => return,
    };
    let elapsed = started.elapsed();
    shared.record_job_time(elapsed.as_micros() as u64);
    crate::metrics::job_finished(
        &shared.queues[job.queue].name,
        &job.record,
        &outcome,
        elapsed,
    );
    drop(permit);
    if matches!(outcome, Outcome::Cancelled | Outcome::Expired) {
        // cancel.lua or expire.lua already filed the job: nothing to record.
        return;
    }
    crate::metrics::slots(shared.busy(), shared.config.concurrency);
    let report = Finished {
        queue: job.queue,
        leased_id: job.leased_id(),
        outcome,
        after,
        keyed: job.keyed,
    };
    if finished.send(report).is_err() {
        // The completion task is gone (shutdown timed out); the job stays
        // leased and is handed back or reclaimed.
        tracing::warn!("finished a job after shutdown stopped recording outcomes");
    }
}

/// Returns prefetched jobs that never started to the head of their queues,
/// so other workers can run them while this one finishes its running jobs.
async fn hand_back_unstarted(shared: &Shared, buffer: VecDeque<Leased>) {
    for (index, queue) in shared.queues.iter().enumerate() {
        let ids: Vec<Vec<u8>> = buffer
            .iter()
            .filter(|job| job.queue == index)
            .map(Leased::leased_id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        match shared
            .store
            .handback(&queue.keys, &shared.worker_id, &ids, false)
            .await
        {
            Ok(count) => {
                shared.held.remove(index, ids.iter().map(Vec::as_slice));
                tracing::info!(queue = %queue.name, jobs = count, "handed back prefetched jobs")
            }
            Err(err) => {
                tracing::warn!(queue = %queue.name, error = %err, "could not hand prefetched jobs back; they return at shutdown or when the lease lapses")
            }
        }
    }
}
