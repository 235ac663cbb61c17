//! `batch_expire_held.lua`: child batches still held by their producer
//! past their open timeout are cancelled, which tells their parents.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

/// Most held child batches one reaper round looks at per queue.
pub const EXPIRE_HELD_BATCH: usize = 100;

impl Store {
    /// Cancels up to [`EXPIRE_HELD_BATCH`] child batches of `queue` whose
    /// open timeout passed while their producer held them
    /// (`batch_expire_held.lua`). Returns how many were cancelled.
    pub async fn batch_expire_held(&self, queue: &QueueKeys) -> Result<u64, Error> {
        const OP: &str = "batch_expire_held";
        let held = queue.batches_held();
        let reply = SCRIPTS
            .batch_expire_held
            .call(&[held.as_str(), queue.ready()])
            .arg(EXPIRE_HELD_BATCH)
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        Ok(u64::try_from(int_reply(&reply, OP)?).unwrap_or(0))
    }
}
