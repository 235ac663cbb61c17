//! What the worker knows about one queue it serves: its keys and active
//! hash, whether it is known to be empty, its flow limits, and when its
//! active hash is next compared with the jobs the worker holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jobqueue_core::store::keys::QueueKeys;
use tokio::sync::Notify;

use crate::state::flow_limits::FlowLimits;

/// One queue the worker serves.
pub(crate) struct QueueRuntime {
    pub(crate) name: Arc<str>,
    pub(crate) keys: Arc<QueueKeys>,
    /// This worker's active hash on the queue.
    pub(crate) active_key: String,
    pub(crate) emptiness: QueueEmptiness,
    /// Redis refused this worker's ready watch on the queue (`BLMOVE` not
    /// allowed): it is no longer watched (`loops/ready_watcher.rs`).
    pub(crate) watch_refused: AtomicBool,
    pub(crate) limits: FlowLimits,
    /// Set when a fetch on this queue failed: Redis may have run it and the
    /// reply been lost, leaving jobs in the active hash that this worker
    /// never received (see [`HeldJobs`](crate::state::held_jobs::HeldJobs)).
    pub(crate) fetch_uncertain: AtomicBool,
    /// When the active hash is next compared with the held jobs anyway.
    /// An acknowledgement Redis accepted can still be lost: a failover
    /// promotes a replica that had not received it. The job is then back
    /// in this worker's active hash, covered by its live lease, although
    /// the worker finished it; the routine check hands it back (it runs
    /// again: at least once) within one lease period.
    pub(crate) next_reconcile: ReconcileClock,
}

/// When a queue's next routine reconciliation is due: microseconds after
/// the clock's creation, in an atomic, so the check every fetch round makes
/// takes no lock.
pub(crate) struct ReconcileClock {
    origin: Instant,
    due_us: AtomicU64,
}

impl ReconcileClock {
    /// A clock whose first check is due `after` from now.
    pub(crate) fn new(after: Duration) -> Self {
        let clock = Self {
            origin: Instant::now(),
            due_us: AtomicU64::new(0),
        };
        clock.set_due_in(after);
        clock
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn is_due(&self) -> bool {
        self.now_us() >= self.due_us.load(Ordering::Relaxed)
    }

    fn set_due_in(&self, after: Duration) {
        let after_us = u64::try_from(after.as_micros()).unwrap_or(u64::MAX);
        self.due_us
            .store(self.now_us().saturating_add(after_us), Ordering::Relaxed);
    }
}

impl QueueRuntime {
    /// Whether the active hash must be compared with the held jobs before
    /// the next fetch: a fetch failed, or the routine check is due.
    pub(crate) fn reconcile_due(&self) -> bool {
        self.fetch_uncertain.load(Ordering::Acquire) || self.next_reconcile.is_due()
    }

    /// The active hash was just compared; the next routine check is in `every`.
    pub(crate) fn reconciled(&self, every: Duration) {
        self.fetch_uncertain.store(false, Ordering::Release);
        self.next_reconcile.set_due_in(every);
    }
}

/// Whether a queue is known to have nothing ready, so fetch rounds skip it
/// instead of paying a round trip per empty queue (with strict ordering an
/// empty high-priority queue would otherwise be asked first every time).
///
/// A queue is known empty when a fetch drained it and no wake-up for it
/// arrived since that fetch was sent: every transition that makes an empty
/// queue non-empty publishes a wake-up, which bumps the generation.
///
/// A fetch that found the queue drained and open (not paused) also arms
/// its ready watch (`loops/ready_watcher.rs`), which then waits on the
/// ready list for the next push.
#[derive(Default)]
pub(crate) struct QueueEmptiness {
    wake_generation: AtomicU64,
    /// Generation at which a fetch found the queue drained, plus one (0 = not drained).
    drained_at: AtomicU64,
    /// Notified when a fetch found the queue drained and not paused.
    watch_armed: Notify,
}

impl QueueEmptiness {
    /// The generation to pass to [`QueueEmptiness::mark_drained`] after a fetch.
    pub(crate) fn generation(&self) -> u64 {
        self.wake_generation.load(Ordering::Acquire)
    }

    /// A fetch sent at `generation` found nothing more.
    pub(crate) fn mark_drained(&self, generation: u64) {
        self.drained_at.store(generation + 1, Ordering::Release);
    }

    /// A fetch found the queue drained, and not paused: its ready list
    /// may be watched for the next push.
    pub(crate) fn arm_watch(&self) {
        self.watch_armed.notify_one();
    }

    /// Waits until [`QueueEmptiness::arm_watch`] was called (at once if it
    /// was called since the last wait returned).
    pub(crate) async fn watch_armed(&self) {
        self.watch_armed.notified().await;
    }

    /// New work may have arrived.
    pub(crate) fn wake(&self) {
        self.wake_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// True when the queue is known to have nothing ready.
    pub(crate) fn is_known_empty(&self) -> bool {
        self.drained_at.load(Ordering::Acquire) == self.generation() + 1
    }
}
