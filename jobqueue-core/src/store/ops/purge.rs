//! `purge.lua`: operator action: drop every ready job of a queue, a page
//! per call, counting the jobs of batches as cancelled in their batch and
//! dropping the dropped jobs' durable memos.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::{array_reply, int_reply};
use crate::store::scripts::SCRIPTS;

/// What one call of `purge.lua` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgePage {
    /// Jobs dropped by this call.
    pub dropped: u64,
    /// This call took the ready list aside: later calls must not again.
    pub took_ready: bool,
    /// Jobs taken aside are still to be dropped: call again.
    pub more: bool,
}

impl Store {
    /// Drops up to `page` ready jobs of `queue` taken aside for the purge
    /// (`purge.lua`); with `take_ready`, first takes the whole ready list
    /// (and the priority set) aside once no earlier purge left jobs there.
    /// Jobs of batches are counted `cancelled` in their batch; each dropped
    /// job's durable memo goes with it.
    pub async fn purge(
        &self,
        queue: &QueueKeys,
        page: usize,
        take_ready: bool,
    ) -> Result<PurgePage, Error> {
        const OP: &str = "purge";
        let purging = queue.purging();
        let purging_priority = queue.purging_priority();
        let reply: Value = SCRIPTS
            .purge
            .call(&[queue.ready(), queue.priority(), &purging, &purging_priority])
            .arg(page.max(1))
            .arg(u8::from(take_ready))
            .arg(queue.events())
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        let parts = array_reply(reply, OP)?;
        let [dropped, took, more] = parts.as_slice() else {
            return Err(Error::protocol(OP, "reply is not {dropped, took, more}"));
        };
        Ok(PurgePage {
            dropped: u64::try_from(int_reply(dropped, OP)?).unwrap_or(0),
            took_ready: int_reply(took, OP)? == 1,
            more: int_reply(more, OP)? == 1,
        })
    }
}
