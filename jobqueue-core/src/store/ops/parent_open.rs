//! `parent_open.lua`: open the dependency record of a job enqueued with
//! dependents, in the same round trip as its enqueue and before it.

use uuid::Uuid;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::{Call, SCRIPTS, invoke_pipelined};

impl Store {
    /// The `parent_open.lua` call that opens job `id`'s dependency record;
    /// sent before its enqueue, in the same round trip.
    pub(crate) fn parent_open_call(queue: &QueueKeys, id: Uuid, delay_ms: u64) -> Call {
        SCRIPTS
            .parent_open
            .call(&[&queue.parent(&id.to_string())])
            .arg(delay_ms)
    }

    /// Opens the dependency records of several jobs (each on its queue,
    /// with its delay) in one round trip: a workflow opens every node's
    /// before it places the first.
    pub(crate) async fn open_parents(&self, jobs: &[(QueueKeys, Uuid, u64)]) -> Result<(), Error> {
        let calls: Vec<Call> = jobs
            .iter()
            .map(|(queue, id, delay_ms)| Self::parent_open_call(queue, *id, *delay_ms))
            .collect();
        for chunk in calls.chunks(crate::store::scripts::MAX_RECORDS_PER_CALL) {
            invoke_pipelined(&mut self.conn.clone(), chunk, "parent_open").await?;
        }
        Ok(())
    }

    /// Opens job `id`'s dependency record on its own (for a job with
    /// parents that may itself get dependents).
    pub async fn open_parent(
        &self,
        queue: &QueueKeys,
        id: Uuid,
        delay_ms: u64,
    ) -> Result<(), Error> {
        Self::parent_open_call(queue, id, delay_ms)
            .invoke::<redis::Value>(&mut self.conn.clone(), "parent_open")
            .await
            .map(|_| ())
    }
}
