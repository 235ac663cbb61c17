//! `batch_seal.lua`: the producer is done adding: release its hold (the
//! batch completes there when every job already ended).

use uuid::Uuid;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Releases the producer's hold on a batch (`batch_seal.lua`). Returns
    /// true when this call sealed it, false when it was sealed already;
    /// fails with [`Error::BatchNotFound`].
    pub async fn batch_seal(&self, queue: &QueueKeys, batch_id: Uuid) -> Result<bool, Error> {
        const OP: &str = "batch_seal";
        let batch_key = queue.batch(&batch_id.to_string());
        let reply = SCRIPTS
            .batch_seal
            .call(&[batch_key.as_str(), queue.ready()])
            .arg(queue.events())
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        match int_reply(&reply, OP)? {
            -1 => Err(Error::BatchNotFound {
                op: OP,
                queue: queue.name().to_owned(),
                id: batch_id,
            }),
            sealed => Ok(sealed == 1),
        }
    }
}
