//! What the autoscaling signal reads besides a queue's sizes: how many
//! scheduled jobs and retries come due by a time.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

impl Store {
    /// The scheduled jobs and the retries of `queue` due at or before
    /// `until_ms` (overdue ones included: not yet promoted), in one round
    /// trip of two `ZCOUNT`s (the sets are scored by due time).
    pub async fn due_by(&self, queue: &QueueKeys, until_ms: i64) -> Result<(u64, u64), Error> {
        redis::pipe()
            .zcount(queue.scheduled(), "-inf", until_ms)
            .zcount(queue.retry(), "-inf", until_ms)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("scaling"))
    }
}
