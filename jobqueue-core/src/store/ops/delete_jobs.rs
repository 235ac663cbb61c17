//! `delete_jobs.lua`: operator action: delete scheduled, retrying, dead or
//! waiting jobs.

use crate::store::releases::delete_call;
use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Deletes jobs from a waiting set (scheduled, retry, dead or waiting
    /// for parents). A deleted job with dependents that had not ended is
    /// recorded as failed, and its children are told at once (their
    /// policies apply); should telling them fail, the entries stay in the
    /// outbox for the workers' sweeper. Returns how many were deleted.
    pub async fn delete_jobs(
        &self,
        queue: &QueueKeys,
        set_key: &str,
        ids: &[String],
    ) -> Result<u64, Error> {
        const OP: &str = "delete_jobs";
        if ids.is_empty() {
            return Ok(0);
        }
        let reply: Value = delete_call(&SCRIPTS.delete_jobs, &[set_key, queue.jobs()], queue, ids)
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        self.tell_children_of_deleted(queue, reply, OP).await
    }
}
