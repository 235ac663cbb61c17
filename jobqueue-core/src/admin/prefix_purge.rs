//! Everything under the prefix: how many keys, and removing them all
//! (`jobqueue purge --all-keys`): every queue, job, status, cron entry,
//! counter, worker registration and the audit log of this prefix. Keys of
//! other prefixes are never touched.

use crate::admin::handle::Admin;
use crate::error::Error;

impl Admin {
    /// How many keys are under the prefix (`<prefix>:…`), on every server
    /// (each primary of a Cluster); counted with `SCAN`, never `KEYS`.
    pub async fn count_prefix_keys(&self) -> Result<u64, Error> {
        let prefix = self.store().keys().prefix().to_owned();
        self.store().count_keys_under(&prefix).await
    }

    /// Removes every key under the prefix (`<prefix>:…`) with `SCAN` and
    /// `UNLINK`, a page at a time; returns how many were removed. Keys
    /// written meanwhile (by a live worker or producer) may survive: stop
    /// them first.
    pub async fn purge_prefix(&self) -> Result<u64, Error> {
        let prefix = self.store().keys().prefix().to_owned();
        self.store().unlink_keys_under(&prefix).await
    }
}
