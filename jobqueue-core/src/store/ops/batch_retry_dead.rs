//! `batch_retry_dead.lua`: operator action: the dead jobs of one batch
//! run again, counted pending in their batch again.

use uuid::Uuid;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Puts the batch's dead jobs back in its queue's ready list
    /// (`batch_retry_dead.lua`). Returns how many; fails with
    /// [`Error::BatchNotFound`].
    pub async fn batch_retry_dead(&self, queue: &QueueKeys, batch_id: Uuid) -> Result<u64, Error> {
        const OP: &str = "batch_retry_dead";
        let batch_key = queue.batch(&batch_id.to_string());
        let reply = SCRIPTS
            .batch_retry_dead
            .call(&[
                batch_key.as_str(),
                queue.dead(),
                queue.jobs(),
                queue.ready(),
            ])
            .arg(queue.events())
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        let n = int_reply(&reply, OP)?;
        u64::try_from(n).map_err(|_| Error::BatchNotFound {
            op: OP,
            queue: queue.name().to_owned(),
            id: batch_id,
        })
    }
}
