//! What this worker knows about a queue's flow limits (see
//! `jobqueue_core::admin::limits` and `jobqueue_core::admin::keys`): whether it has any
//! or has had keyed jobs, so the fetch loop uses `fetch_limited.lua` only
//! for those queues, and until when the limits hold the queue back.
//!
//! Loaded from Redis by `limits_loader.rs`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A queue's flow-limit state in this worker.
#[derive(Default)]
pub(crate) struct FlowLimits {
    active: AtomicBool,
    held_until: Mutex<Option<Instant>>,
    /// The workers leasing on the queue, as last seen by fetch_limited.lua.
    workers: Mutex<Vec<String>>,
}

impl FlowLimits {
    /// True when the queue has limits (one atomic load: the unlimited path
    /// pays nothing more).
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// When the limits hold the queue back until a later instant, that instant.
    pub(crate) fn held_until(&self) -> Option<Instant> {
        let until = (*self.held_until.lock().ok()?)?;
        (until > Instant::now()).then_some(until)
    }

    /// The limits allow nothing for `wait`; returns until when.
    pub(crate) fn hold_for(&self, wait: Duration) -> Instant {
        let until = Instant::now() + wait;
        if let Ok(mut held) = self.held_until.lock() {
            *held = Some(until);
        }
        until
    }

    /// A slot freed or work arrived (`w`, `r`, `c` on the queue's events
    /// channel): whatever held the queue back is worth asking about again.
    pub(crate) fn release_hold(&self) {
        if let Ok(mut held) = self.held_until.lock() {
            *held = None;
        }
    }

    /// The cached list of leasing workers (taken out while a fetch uses it).
    pub(crate) fn take_workers(&self) -> Vec<String> {
        self.workers
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// Puts the (possibly corrected) list back.
    pub(crate) fn put_workers(&self, workers: Vec<String>) {
        if let Ok(mut cached) = self.workers.lock() {
            *cached = workers;
        }
    }

    /// Switches the limits on or off; whatever held the queue back no
    /// longer holds.
    pub(crate) fn set_active(&self, active: bool) {
        self.active.store(active, Ordering::Relaxed);
        if let Ok(mut held) = self.held_until.lock() {
            *held = None;
        }
    }
}
