//! `batch_add.lua`: jobs join a batch and become ready, in one step.

use uuid::Uuid;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Appends `records` (all carrying the batch id) to the queue's ready
    /// list and counts them in the batch, atomically (`batch_add.lua`).
    /// Returns how many were added; fails with [`Error::BatchNotFound`]
    /// or [`Error::BatchClosed`] (nothing added).
    pub async fn batch_add(
        &self,
        queue: &QueueKeys,
        batch_id: Uuid,
        records: &[Vec<u8>],
    ) -> Result<u64, Error> {
        const OP: &str = "batch_add";
        let batch_key = queue.batch(&batch_id.to_string());
        let mut call = SCRIPTS
            .batch_add
            .call(&[batch_key.as_str(), queue.ready()])
            .arg(queue.events());
        for record in records {
            call.push_arg(record.as_slice());
        }
        let reply = call.invoke(&mut self.conn.clone(), OP).await?;
        match int_reply(&reply, OP)? {
            -1 => Err(Error::BatchNotFound {
                op: OP,
                queue: queue.name().to_owned(),
                id: batch_id,
            }),
            -2 => Err(Error::BatchClosed {
                op: OP,
                id: batch_id,
            }),
            added => u64::try_from(added).map_err(|_| Error::protocol(OP, "negative count")),
        }
    }
}
