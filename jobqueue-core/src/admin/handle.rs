//! [`Admin`]: the operator API's handle over the store, and the bounds
//! every listing keeps.

use crate::error::Error;
use crate::store::Store;
use crate::store::keys::QueueKeys;

/// Entries the audit log keeps by default (about: Redis trims whole
/// stream blocks, so up to a few hundred more may stay). At a few hundred
/// bytes each, 10,000 entries take a few MB of Redis memory.
pub const AUDIT_LOG_CAPACITY: usize = 10_000;

/// Largest page the listing calls return.
pub const MAX_PAGE_SIZE: usize = 1000;

/// How many jobs the bulk actions move per script call.
pub(crate) const BULK_BATCH: usize = 1000;

/// Inspects and repairs queues. Get one from [`crate::Client::admin`].
#[derive(Debug, Clone)]
pub struct Admin {
    pub(in crate::admin) store: Store,
    pub(in crate::admin) audit_capacity: usize,
}

impl Admin {
    /// An operator API over `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            audit_capacity: AUDIT_LOG_CAPACITY,
        }
    }

    /// Keeps about `entries` entries in the audit log instead of
    /// [`AUDIT_LOG_CAPACITY`] (at least 100). Every writer trims the log
    /// to its own capacity, so give every process that writes it (the
    /// dashboard, the CLI, your own code) the same value.
    #[must_use]
    pub fn with_audit_capacity(mut self, entries: usize) -> Self {
        self.audit_capacity = entries.max(100);
        self
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The keys of every known queue.
    pub(crate) async fn queue_keys_all(&self) -> Result<Vec<QueueKeys>, Error> {
        self.store
            .queue_names()
            .await?
            .iter()
            .map(|name| self.store.queue_keys(name))
            .collect()
    }
}
