//! The event switches of queues as this process last read them
//! (`P:{Q}:observe`, `events`): the producer and a running job write the
//! `enqueued` and `progress` events no script sees only when the queue's
//! stream is on, and read its switch at most once per [`SWITCH_REFRESH`]
//! (`store/commands/observe.rs`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a process trusts a queue's event switch it read.
pub const SWITCH_REFRESH: Duration = Duration::from_secs(1);

/// The event switches a process read, per queue, with when it read them.
#[derive(Debug, Default)]
pub(crate) struct SwitchCache {
    events: Mutex<HashMap<String, (Option<u64>, Instant)>>,
}

impl SwitchCache {
    /// `queue`'s cap (`None`: off) when read less than [`SWITCH_REFRESH`]
    /// ago; `None` when it must be read again.
    pub(crate) fn fresh(&self, queue: &str) -> Option<Option<u64>> {
        let cache = self.events.lock().ok()?;
        let (cap, read_at) = cache.get(queue)?;
        (read_at.elapsed() < SWITCH_REFRESH).then_some(*cap)
    }

    /// Remembers `queue`'s cap as read now.
    pub(crate) fn remember(&self, queue: &str, cap: Option<u64>) {
        if let Ok(mut cache) = self.events.lock() {
            cache.insert(queue.to_owned(), (cap, Instant::now()));
        }
    }
}
