//! `handback.lua`: a worker returns leased jobs it will not finish.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
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
