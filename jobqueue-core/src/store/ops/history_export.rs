//! `history_export.lua`: a queue's registered history exporter moves its
//! cursor after it wrote entries (and registers on its first call).

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::SCRIPTS;

/// Where a queue's registered history exporter stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportCursor {
    /// The id of the last entry it wrote (`0-0`: none yet).
    pub cursor: String,
    /// How many of the appended entries count as written (see
    /// `history_export.lua`).
    pub exported: u64,
}

impl Store {
    /// Registers `queue`'s history exporter if none is (its cursor then
    /// starts before the oldest entry kept) and returns where it stands.
    pub async fn history_export_register(&self, queue: &QueueKeys) -> Result<ExportCursor, Error> {
        self.history_export_commit(queue, "", 0).await
    }

    /// The exporter wrote `written` entries, the last one `last_id`: moves
    /// its cursor there, only forward.
    pub async fn history_export_commit(
        &self,
        queue: &QueueKeys,
        last_id: &str,
        written: u64,
    ) -> Result<ExportCursor, Error> {
        const OP: &str = "history_export";
        let export = queue.history_export();
        let history = queue.history();
        let observe = queue.observe();
        let (cursor, exported): (String, u64) = SCRIPTS
            .history_export
            .call(&[export.as_str(), history.as_str(), observe.as_str()])
            .arg(last_id)
            .arg(written)
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        Ok(ExportCursor { cursor, exported })
    }
}
