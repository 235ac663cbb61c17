//! `workflow_mark.lua`: change a workflow's record (placed, cancelled,
//! nodes re-enqueued by a retry), optionally guarded by a field's value.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::SCRIPTS;

/// What `workflow_mark.lua` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkOutcome {
    /// Written.
    Written,
    /// The record is gone (past its retention, or never written).
    Gone,
    /// The guard field no longer held the expected value: nothing written.
    Moved,
}

impl Store {
    /// Writes `fields` into workflow `workflow_id`'s record on `queue`,
    /// renewing its retention, when `guard` (field, expected value) still
    /// holds.
    pub(crate) async fn mark_workflow(
        &self,
        queue: &QueueKeys,
        workflow_id: &str,
        retention_ms: u64,
        guard: Option<(&str, &str)>,
        fields: &[(String, String)],
    ) -> Result<MarkOutcome, Error> {
        let record = queue.workflow(workflow_id);
        let (guard_field, expected) = guard.unwrap_or(("", ""));
        let mut call = SCRIPTS
            .workflow_mark
            .call(&[&record])
            .arg(retention_ms)
            .arg(guard_field)
            .arg(expected);
        for (field, value) in fields {
            call.push_arg(field);
            call.push_arg(value);
        }
        let reply: i64 = call.invoke(&mut self.conn.clone(), "workflow_mark").await?;
        Ok(match reply {
            1 => MarkOutcome::Written,
            0 => MarkOutcome::Gone,
            _ => MarkOutcome::Moved,
        })
    }
}
