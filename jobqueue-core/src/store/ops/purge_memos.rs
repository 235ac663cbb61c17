//! `purge_memos.lua`: operator action, after `purge.lua`: drops the
//! durable memos of up to `max` purged jobs per call (the caller repeats
//! while the reply says more may wait), so a purge leaves no memo behind
//! and never blocks Redis for long.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::ops::purge::PurgeInProgress;
use crate::store::reply::{array_reply, int_reply};
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Drops the memos of up to `max` jobs of `purge` (`purge_memos.lua`).
    /// Returns how many jobs it handled, and whether more may wait.
    pub async fn purge_memos(
        &self,
        queue: &QueueKeys,
        purge: &PurgeInProgress,
        max: usize,
    ) -> Result<(u64, bool), Error> {
        const OP: &str = "purge_memos";
        let reply: Value = SCRIPTS
            .purge_memos
            .call(&[&purge.list, &purge.priority, queue.jobs()])
            .arg(max.max(1))
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        let parts = array_reply(reply, OP)?;
        let (Some(handled), Some(more)) = (parts.first(), parts.get(1)) else {
            return Err(Error::protocol(OP, "reply is not {handled, more}"));
        };
        Ok((
            u64::try_from(int_reply(handled, OP)?).unwrap_or(0),
            int_reply(more, OP)? == 1,
        ))
    }
}
