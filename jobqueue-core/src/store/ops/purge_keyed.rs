//! `purge_keyed.lua`: operator action: drop waiting keyed jobs, at most
//! `ARGV[1]` per call (the caller repeats while the reply says more may wait),
//! so purging many keyed jobs never blocks Redis for long.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::{array_reply, int_reply};
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Drops up to `max` keyed jobs waiting in their flow keys' lists
    /// (`purge_keyed.lua`). Returns how many, and whether more may wait.
    pub async fn purge_keyed(&self, queue: &QueueKeys, max: usize) -> Result<(u64, bool), Error> {
        const OP: &str = "purge_keyed";
        let (ready, running) = (queue.flow_ready(), queue.flow_running());
        let reply: Value = SCRIPTS
            .purge_keyed
            .call(&[&ready, &running, queue.jobs()])
            .arg(max.max(1))
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        let parts = array_reply(reply, OP)?;
        let (Some(dropped), Some(more)) = (parts.first(), parts.get(1)) else {
            return Err(Error::protocol(OP, "reply is not {dropped, more}"));
        };
        Ok((
            u64::try_from(int_reply(dropped, OP)?).unwrap_or(0),
            int_reply(more, OP)? == 1,
        ))
    }
}
