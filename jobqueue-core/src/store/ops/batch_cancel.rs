//! `batch_cancel.lua`: operator action: cancel a batch, one page of its
//! queue's ready list (then retry set) per call.

use uuid::Uuid;

use crate::error::Error;
use crate::store::commands::job_sets::{MAX_FINISHED_AGE_MS, MAX_FINISHED_KEPT};
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::SCRIPTS;

/// Records looked at per call.
const PAGE: u64 = 1000;

impl Store {
    /// Cancels a batch (`batch_cancel.lua`, paged over the ready list and
    /// the retry set): it takes no more jobs and fires no callback, and its
    /// waiting jobs go to the cancelled set. Returns how many were
    /// cancelled; fails with [`Error::BatchNotFound`].
    pub async fn batch_cancel(&self, queue: &QueueKeys, batch_id: Uuid) -> Result<u64, Error> {
        const OP: &str = "batch_cancel";
        let batch_key = queue.batch(&batch_id.to_string());
        let cancelled_key = queue.cancelled();
        let keys = [
            batch_key.as_str(),
            queue.ready(),
            queue.retry(),
            queue.jobs(),
            cancelled_key.as_str(),
            queue.stats(),
        ];
        let id = batch_id.to_string();
        let mut total = 0u64;
        for place in ["ready", "retry"] {
            let mut start: i64 = 0;
            while start >= 0 {
                let (cancelled, next): (i64, i64) = SCRIPTS
                    .batch_cancel
                    .call(&keys)
                    .arg(id.as_str())
                    .arg(MAX_FINISHED_KEPT)
                    .arg(MAX_FINISHED_AGE_MS)
                    .arg(start)
                    .arg(PAGE)
                    .arg(place)
                    .invoke(&mut self.conn.clone(), OP)
                    .await?;
                if cancelled < 0 {
                    return Err(Error::BatchNotFound {
                        op: OP,
                        queue: queue.name().to_owned(),
                        id: batch_id,
                    });
                }
                total += cancelled.unsigned_abs();
                start = next;
            }
        }
        Ok(total)
    }
}
