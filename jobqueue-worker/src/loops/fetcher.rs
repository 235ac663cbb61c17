//! The fetch loop: lease jobs when slots are free, start each in its own task.
//!
//! Jobs are leased in batches with one `fetch.lua` call per queue tried (in
//! the order of the queue picker; one round is `fetch_round.rs`), as many
//! as there are free slots plus the prefetch allowance (see [`Prefetch`]),
//! at most `max_fetch_batch`. Leased jobs wait in a small local buffer and
//! start the moment a slot frees (each in the task of `run/job_task.rs`),
//! while the next fetch is already on the wire, so short jobs never wait
//! for a round trip.
//!
//! When a queue round finds nothing the loop goes idle until a wake-up
//! arrives: from the queue's ready watch (`loops/ready_watcher.rs`, in the
//! hop of the push itself) or over pub/sub (new jobs in an empty queue,
//! resume, a due job promoted by this worker). Wake-ups are hints that can be lost (an
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
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio_util::task::TaskTracker;

use crate::config::Prefetch;
use crate::loops::fetch_round::{Round, fetch_round};
use crate::loops::retry_backoff::RetryBackoff;
use crate::run::job_task::run_job;
use crate::run::leased::Leased;
use crate::run::recording::Finished;
use crate::state::queue_order::QueuePicker;
use crate::state::shared::Shared;

type FetchFuture = BoxFuture<'static, Round>;

/// Runs until `stop_fetching` fires; then hands unstarted jobs back.
pub(crate) async fn run(
    shared: Arc<Shared>,
    finished: mpsc::UnboundedSender<Finished>,
    jobs: TaskTracker,
) {
    // The periodic re-check of queues known to be empty (see the module docs).
    let mut recheck = tokio::time::interval_at(
        tokio::time::Instant::now() + shared.config.idle_poll_interval,
        shared.config.idle_poll_interval,
    );
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut fetcher = Fetcher::new(shared, finished, jobs);

    loop {
        fetcher.fetch_if_wanted();
        let shared = &fetcher.shared;
        tokio::select! {
            biased;
            () = shared.stop_fetching.cancelled() => break,
            permit = shared.slots.clone().acquire_owned(), if fetcher.wants_slot() => {
                let Ok(permit) = permit else { break };
                fetcher.slot_freed(permit);
            }
            result = poll_in_flight(&mut fetcher.in_flight), if fetcher.in_flight.is_some() => {
                let (round, started) = result;
                fetcher.round_done(round, started);
            }
            () = sleep_until_if_set(fetcher.retry_at), if fetcher.retry_at.is_some() => {
                fetcher.retry_at = None;
            }
            // Redis answers again (a failover completed): no need to wait
            // out the backoff of the fetches that failed meanwhile.
            () = shared.redis_recovered.notified(), if fetcher.retry_at.is_some() => {
                fetcher.retry_at = None;
            }
            () = sleep_until_if_set(fetcher.limit_wake), if fetcher.idle && fetcher.limit_wake.is_some() => {
                fetcher.limit_wake = None;
                fetcher.idle = false;
            }
            () = shared.wake_fetcher.notified(), if fetcher.idle => fetcher.idle = false,
            _ = recheck.tick() => {
                // Look at every queue again, in case a wake-up was lost.
                tracing::trace!("periodic re-check of empty queues");
                shared.forget_emptiness();
                if fetcher.in_flight.is_some() {
                    // That round may have asked before the re-check: when
                    // it comes back empty and the loop goes idle, this
                    // wake-up sends the re-check's round.
                    shared.wake_fetcher.notify_one();
                }
                fetcher.idle = false;
            }
        }
    }
    hand_back_unstarted(&fetcher.shared, fetcher.buffer).await;
}

/// The fetch loop's state between two turns.
struct Fetcher {
    shared: Arc<Shared>,
    finished: mpsc::UnboundedSender<Finished>,
    jobs: TaskTracker,
    picker: QueuePicker,
    backoff: RetryBackoff,
    /// Leased jobs waiting for a slot.
    buffer: VecDeque<Leased>,
    /// The fetch round on the wire, and when it was sent.
    in_flight: Option<(FetchFuture, Instant)>,
    /// The last round found nothing: wait for a wake-up.
    idle: bool,
    /// Backing off after a failed fetch: when to try again.
    retry_at: Option<Instant>,
    /// While idle because flow limits held every queue back: when to look again.
    limit_wake: Option<Instant>,
    /// Moving average of a fetch round trip, µs.
    fetch_time_us: u64,
}

impl Fetcher {
    fn new(
        shared: Arc<Shared>,
        finished: mpsc::UnboundedSender<Finished>,
        jobs: TaskTracker,
    ) -> Self {
        Self {
            picker: QueuePicker::new(shared.config.queues.clone()),
            shared,
            finished,
            jobs,
            backoff: RetryBackoff::new(Duration::from_millis(100), Duration::from_secs(5)),
            buffer: VecDeque::new(),
            in_flight: None,
            idle: false,
            retry_at: None,
            limit_wake: None,
            fetch_time_us: 200,
        }
    }

    /// Sends a fetch round for the free slots and the prefetch allowance,
    /// unless one is on the wire, the loop is idle or backing off, or the
    /// buffer already holds enough.
    fn fetch_if_wanted(&mut self) {
        if self.in_flight.is_some() || self.idle || self.retry_at.is_some() {
            return;
        }
        let shared = &self.shared;
        let free = shared.slots.available_permits();
        let want = (free + prefetch_target(shared, self.fetch_time_us))
            .saturating_sub(self.buffer.len())
            .min(shared.config.max_fetch_batch);
        if want > 0 {
            let round = fetch_round(shared.clone(), self.picker.next_round(), want).boxed();
            self.in_flight = Some((round, Instant::now()));
        }
    }

    /// Whether to wait for a free slot: to start a buffered job, or —
    /// nothing to start, nothing on the wire, and neither idle nor backing
    /// off — because every slot is busy, to fetch once one frees. (While
    /// backing off, waiting here would spin: a free slot is not what the
    /// loop waits for then.)
    fn wants_slot(&self) -> bool {
        !self.buffer.is_empty()
            || (self.in_flight.is_none() && !self.idle && self.retry_at.is_none())
    }

    /// A slot is free: start the next buffered job in it.
    fn slot_freed(&mut self, permit: OwnedSemaphorePermit) {
        match self.buffer.pop_front() {
            Some(job) => {
                let shared = &self.shared;
                self.jobs
                    .spawn(run_job(shared.clone(), job, permit, self.finished.clone()));
                crate::metrics::slots(shared.busy(), shared.config.concurrency);
            }
            // A slot freed: loop round to fetch for it.
            None => drop(permit),
        }
    }

    /// The round sent at `started` came back: buffer what it leased, and
    /// go idle when it found nothing, or back off when it failed.
    fn round_done(&mut self, round: Round, started: Instant) {
        self.in_flight = None;
        let micros = started.elapsed().as_micros() as u64;
        self.fetch_time_us = (self.fetch_time_us * 7 + micros) / 8;
        let Round {
            leased,
            limit_wait_until,
            error,
        } = round;
        let got_any = !leased.is_empty();
        self.buffer.extend(leased);
        match error {
            None => {
                tracing::trace!(leased = self.buffer.len(), "fetch round done");
                self.backoff.reset(Duration::from_millis(100));
                self.idle = !got_any;
                self.limit_wake = if self.idle { limit_wait_until } else { None };
            }
            Some(err) => {
                // Wake-ups published meanwhile may be lost: ask
                // every queue once Redis answers again.
                self.shared.forget_emptiness();
                let delay = self.backoff.next_delay();
                tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "fetch failed; retrying");
                self.retry_at = Some(Instant::now() + delay);
            }
        }
    }
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

async fn sleep_until_if_set(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
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
                shared.slots_freed(&shared.store, index).await;
                tracing::info!(queue = %queue.name, jobs = count, "handed back prefetched jobs")
            }
            Err(err) => {
                tracing::warn!(queue = %queue.name, error = %err, "could not hand prefetched jobs back; they return at shutdown or when the lease lapses")
            }
        }
    }
}
