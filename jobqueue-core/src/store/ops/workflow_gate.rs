//! `workflow_gate.lua`: open a workflow's gate once every node is placed
//! (its roots may run from then on) and mark the record `placed`.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::SCRIPTS;

/// What `workflow_gate.lua` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateOutcome {
    /// Opened; the release outbox entry to apply (none when no root
    /// was linked to the gate).
    Opened(Option<String>),
    /// The record is gone.
    Gone,
    /// The workflow was cancelled or abandoned meanwhile: the gate stays
    /// shut, no root runs.
    Shut,
}

impl Store {
    /// Opens the gate of workflow `workflow_id` (home queue `queue`) and
    /// marks its record placed, renewing its retention.
    pub(crate) async fn open_workflow_gate(
        &self,
        queue: &QueueKeys,
        workflow_id: &str,
        retention_ms: u64,
    ) -> Result<GateOutcome, Error> {
        let record = queue.workflow(workflow_id);
        let gate = queue.parent(workflow_id);
        let releases = queue.releases();
        let reply: String = SCRIPTS
            .workflow_gate
            .call(&[&record, &gate, &releases])
            .arg(workflow_id)
            .arg(retention_ms)
            .invoke(&mut self.conn.clone(), "workflow_gate")
            .await?;
        Ok(match reply.as_str() {
            "gone" => GateOutcome::Gone,
            "shut" => GateOutcome::Shut,
            "opened" => GateOutcome::Opened(None),
            _ => GateOutcome::Opened(Some(reply)),
        })
    }
}
