//! `reclaim.lua`: put a lapsed worker's jobs back in the queue.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Puts a lapsed worker's jobs back in the queue, counting an attempt.
    /// Returns `None` when the lease turned out to be alive.
    pub async fn reclaim(&self, queue: &QueueKeys, worker_id: &str) -> Result<Option<u64>, Error> {
        let active = queue.active(worker_id);
        let reply: Value = SCRIPTS
            .reclaim
            .call(&[queue.leases(), &active, queue.ready(), queue.stats()])
            .arg(worker_id)
            .arg(queue.events())
            .invoke(&mut self.conn.clone(), "reclaim")
            .await?;
        let moved = int_reply(&reply, "reclaim")?;
        Ok(u64::try_from(moved).ok())
    }
}
