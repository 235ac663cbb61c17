//! Lease transitions: `heartbeat.lua`, `expired_leases.lua`, `reclaim.lua`,
//! `handback.lua`.

use std::time::Duration;

use redis::Value;

use super::scripts::SCRIPTS;
use super::{Store, int_reply};
use crate::error::Error;
use crate::store::keys::QueueKeys;

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

    /// Ids of workers whose lease on `queue` has lapsed (Redis clock).
    pub async fn expired_leases(
        &self,
        queue: &QueueKeys,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        SCRIPTS
            .expired_leases
            .call(&[queue.leases()])
            .arg(limit.max(1))
            .invoke(&mut self.conn.clone(), "expired_leases")
            .await
    }

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

    /// Returns leased jobs to the head of the queue without counting an
    /// attempt. With `release`, also drops the lease and returns every job
    /// still leased by the worker.
    pub async fn handback(
        &self,
        queue: &QueueKeys,
        worker_id: &str,
        ids: &[Vec<u8>],
        release: bool,
    ) -> Result<u64, Error> {
        let active = queue.active(worker_id);
        let mut call = SCRIPTS
            .handback
            .call(&[&active, queue.ready(), queue.leases()])
            .arg(worker_id)
            .arg(queue.events())
            .arg(if release { "1" } else { "0" });
        for id in ids {
            call.push_arg(id.as_slice());
        }
        let reply: Value = call.invoke(&mut self.conn.clone(), "handback").await?;
        Ok(u64::try_from(int_reply(&reply, "handback")?).unwrap_or(0))
    }
}
