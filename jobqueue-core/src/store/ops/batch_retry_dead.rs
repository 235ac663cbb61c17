//! `batch_retry_dead.lua`: operator action: the dead jobs of one batch
//! run again, counted pending in their batch again, one page per call.

use uuid::Uuid;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

/// Most ids sent to one `batch_retry_dead.lua` call (the script refuses more).
const PAGE: usize = 1000;

impl Store {
    /// Puts the batch's dead jobs back in its queue's ready list
    /// (`batch_retry_dead.lua`, at most 1,000 ids per call, found by
    /// HSCAN over the batch's `dead:<id>` fields). Returns how many; fails
    /// with [`Error::BatchNotFound`].
    pub async fn batch_retry_dead(&self, queue: &QueueKeys, batch_id: Uuid) -> Result<u64, Error> {
        const OP: &str = "batch_retry_dead";
        let batch_key = queue.batch(&batch_id.to_string());
        let mut total = 0u64;
        let mut cursor: u64 = 0;
        let mut first = true;
        loop {
            let (next, fields): (u64, Vec<String>) = redis::cmd("HSCAN")
                .arg(&batch_key)
                .arg(cursor)
                .arg("MATCH")
                .arg("dead:*")
                .arg("COUNT")
                .arg(PAGE)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(Error::redis(OP))?;
            let ids: Vec<&str> = fields
                .chunks(2)
                .filter_map(|pair| pair.first()?.strip_prefix("dead:"))
                .collect();
            // The first call always runs: it tells a missing batch apart.
            for page in ids.chunks(PAGE) {
                total += self
                    .batch_retry_dead_page(queue, &batch_key, batch_id, page)
                    .await?;
            }
            if first && ids.is_empty() {
                self.batch_retry_dead_page(queue, &batch_key, batch_id, &[])
                    .await?;
            }
            first = false;
            cursor = next;
            if cursor == 0 {
                return Ok(total);
            }
        }
    }

    /// One `batch_retry_dead.lua` call for at most 1,000 ids.
    async fn batch_retry_dead_page(
        &self,
        queue: &QueueKeys,
        batch_key: &str,
        batch_id: Uuid,
        ids: &[&str],
    ) -> Result<u64, Error> {
        const OP: &str = "batch_retry_dead";
        let reply = SCRIPTS
            .batch_retry_dead
            .call(&[batch_key, queue.dead(), queue.jobs(), queue.ready()])
            .arg(queue.events())
            .arg(ids)
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
