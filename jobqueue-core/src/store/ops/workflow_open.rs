//! `workflow_open.lua`: record a new workflow before any of its nodes is
//! enqueued (see `crate::workflow`).

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Records workflow `workflow_id` on `queue` with `fields` (name,
    /// graph, node job ids), state `enqueueing`, kept `retention_ms`.
    /// Returns false when a workflow with this id exists.
    pub(crate) async fn open_workflow(
        &self,
        queue: &QueueKeys,
        workflow_id: &str,
        retention_ms: u64,
        index_cap: usize,
        fields: &[(String, String)],
    ) -> Result<bool, Error> {
        let record = queue.workflow(workflow_id);
        let index = queue.workflows();
        let mut call = SCRIPTS
            .workflow_open
            .call(&[&record, &index])
            .arg(workflow_id)
            .arg(retention_ms)
            .arg(index_cap);
        for (field, value) in fields {
            call.push_arg(field);
            call.push_arg(value);
        }
        let written: i64 = call.invoke(&mut self.conn.clone(), "workflow_open").await?;
        Ok(written == 1)
    }
}
