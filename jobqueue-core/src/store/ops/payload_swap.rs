//! `payload_swap.lua`: replace records with re-encoded ones, each only if
//! it is still where it was read, unchanged (compare-and-set).
//!
//! Called by the operator API ([`crate::Admin::rotate_payload_keys`]) for
//! `jobqueue keys rotate`.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::SCRIPTS;

/// Where a page of records was read, which is where they are swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordPlace {
    /// The ready list.
    Ready,
    /// The priority set.
    Priority,
    /// The jobs hash (scheduled, retry, dead, waiting, cancelled, expired
    /// and keyed jobs).
    Jobs,
}

impl RecordPlace {
    /// The name the script takes.
    fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Priority => "priority",
            Self::Jobs => "jobs",
        }
    }
}

impl Store {
    /// Swaps each `(old, new)` record pair in `place` of `queue` where the
    /// old record still is, byte for byte; returns how many were swapped
    /// (the others moved or changed since they were read).
    pub async fn payload_swap(
        &self,
        queue: &QueueKeys,
        place: RecordPlace,
        pairs: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<u64, Error> {
        if pairs.is_empty() {
            return Ok(0);
        }
        pairs
            .iter()
            .fold(
                SCRIPTS
                    .payload_swap
                    .call(&[queue.ready(), queue.priority(), queue.jobs()])
                    .arg(place.as_str()),
                |call, (old, new)| call.arg(old.as_slice()).arg(new.as_slice()),
            )
            .invoke(&mut self.conn.clone(), "payload_swap")
            .await
    }
}
