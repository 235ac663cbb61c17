//! `batch_open.lua`: a producer creates a batch, held open until sealed.

use uuid::Uuid;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

/// What a new batch is created with.
#[derive(Debug, Clone)]
pub struct BatchOpen<'a> {
    /// The batch id.
    pub id: Uuid,
    /// Free text shown to operators (may be empty).
    pub description: &'a str,
    /// How long the batch's bookkeeping is kept once it finished, ms.
    pub retention_ms: u64,
    /// How long a held (unsealed) batch lives after its last add, ms.
    pub open_timeout_ms: u64,
    /// Callback records by kind (`success`, `complete`, `death`).
    pub callbacks: &'a [(&'static str, Vec<u8>)],
    /// For a child batch: its parent batch's queue and id.
    pub parent: Option<(&'a str, Uuid)>,
}

impl Store {
    /// Creates a batch on its home queue with one producer hold
    /// (`batch_open.lua`). Returns false when the id is taken.
    pub async fn batch_open(
        &self,
        queue: &QueueKeys,
        batch: &BatchOpen<'_>,
    ) -> Result<bool, Error> {
        let id = batch.id.to_string();
        let parent = batch
            .parent
            .map(|(queue, id)| format!("{queue}|{id}"))
            .unwrap_or_default();
        let keys = [queue.batch(&id), queue.batches()];
        let mut call = SCRIPTS
            .batch_open
            .call(&[keys[0].as_str(), keys[1].as_str()])
            .arg(id.as_str())
            .arg(batch.description)
            .arg(batch.retention_ms)
            .arg(parent.as_str())
            .arg(batch.open_timeout_ms);
        for (kind, record) in batch.callbacks {
            call.push_arg(*kind);
            call.push_arg(record.as_slice());
        }
        let reply = call.invoke(&mut self.conn.clone(), "batch_open").await?;
        Ok(int_reply(&reply, "batch_open")? == 1)
    }
}
