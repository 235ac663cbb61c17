//! `heartbeat.lua`: renew a worker's lease on one queue.

use std::time::Duration;

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Renews (or creates) `worker_id`'s lease on `queue` for `lease`.
    /// Returns `true` when the lease already existed; `false` means it is
    /// new — on any beat but the first, that the lease had lapsed and was
    /// reclaimed.
    pub async fn heartbeat(
        &self,
        queue: &QueueKeys,
        worker_id: &str,
        lease: Duration,
    ) -> Result<bool, Error> {
        let reply: Value = SCRIPTS
            .heartbeat
            .call(&[queue.leases()])
            .arg(worker_id)
            .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX))
            .invoke(&mut self.conn.clone(), "heartbeat")
            .await?;
        Ok(int_reply(&reply, "heartbeat")? == 1)
    }
}
