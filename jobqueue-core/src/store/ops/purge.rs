//! `purge.lua`: operator action: drop every ready job of a queue.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Drops every ready job of `queue`. Returns how many were dropped.
    pub async fn purge(&self, queue: &QueueKeys) -> Result<u64, Error> {
        let reply: Value = SCRIPTS
            .purge
            .call(&[queue.ready(), queue.priority()])
            .invoke(&mut self.conn.clone(), "purge")
            .await?;
        Ok(u64::try_from(int_reply(&reply, "purge")?).unwrap_or(0))
    }
}
