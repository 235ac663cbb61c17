//! The jobs this worker holds leased, as far as it knows, per queue.
//!
//! A fetch whose reply is lost (the connection drops after Redis ran
//! `fetch.lua` but before the reply arrived) leaves jobs in this worker's
//! active hash that the worker never received. Its heartbeat keeps the
//! lease alive, so no reaper would return them: they would sit "active"
//! until the worker stops. So after a failed fetch the fetcher compares
//! the active hash with this set and hands back the jobs it does not know
//! (`reconcile` in `loops/fetch_round.rs`). Found by the connection-cuts
//! chaos scenario.
//!
//! An id leaves the set only after its outcome (or hand-back) is written,
//! so a job whose ack is in flight is never mistaken for an orphan: either
//! it is still in the set, or it is no longer in the active hash.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

/// Leased ids (as the scripts key them) per queue index.
pub(crate) struct HeldJobs {
    per_queue: Vec<Mutex<HashSet<Vec<u8>>>>,
}

impl HeldJobs {
    pub(crate) fn new(queues: usize) -> Self {
        Self {
            per_queue: (0..queues).map(|_| Mutex::new(HashSet::new())).collect(),
        }
    }

    /// Jobs just leased on queue `queue`.
    pub(crate) fn add(&self, queue: usize, ids: impl IntoIterator<Item = Vec<u8>>) {
        if let Some(mut held) = self.lock(queue) {
            held.extend(ids);
        }
    }

    /// Jobs whose outcome or hand-back is now written.
    pub(crate) fn remove<'a>(&self, queue: usize, ids: impl IntoIterator<Item = &'a [u8]>) {
        if let Some(mut held) = self.lock(queue) {
            for id in ids {
                held.remove(id);
            }
        }
    }

    /// The ids in `found` (read from the active hash) this worker does not hold.
    pub(crate) fn unknown(&self, queue: usize, found: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        match self.lock(queue) {
            Some(held) => found.into_iter().filter(|id| !held.contains(id)).collect(),
            None => Vec::new(),
        }
    }

    fn lock(&self, queue: usize) -> Option<MutexGuard<'_, HashSet<Vec<u8>>>> {
        // A panic while holding the lock cannot leave the set half-updated
        // in a way that matters here: keep using it.
        self.per_queue
            .get(queue)
            .map(|held| held.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_not_held_are_unknown() {
        let held = HeldJobs::new(2);
        held.add(0, [b"a".to_vec(), b"b".to_vec()]);
        held.add(1, [b"c".to_vec()]);
        held.remove(0, [b"a".as_slice()]);
        let found = vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()];
        assert_eq!(held.unknown(0, found), vec![b"a".to_vec(), b"c".to_vec()]);
        assert!(held.unknown(5, vec![b"x".to_vec()]).is_empty());
    }
}
