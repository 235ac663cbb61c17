//! Cancelling a workflow (the API's `POST /workflows/{id}/cancel` and the
//! workflow page's form). Retry from a node needs a producer (it enqueues
//! jobs): it is the CLI's `jobqueue workflow <id> --retry-from NODE`.

use serde::Serialize;
use uuid::Uuid;

use crate::audit_log;
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

/// The audit log's target of a workflow action (the CLI writes the same).
pub fn workflow_audit_target(id: Uuid) -> String {
    format!("workflow {id}")
}

/// What a workflow cancel did.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkflowCancelView {
    pub(crate) action: &'static str,
    /// Node jobs cancelled.
    pub(crate) count: u64,
}

/// Cancels workflow `id`; 404 when it is unknown.
pub(crate) async fn cancel_workflow(
    state: &AppState,
    who: &Principal,
    id: Uuid,
) -> Result<WorkflowCancelView, ApiError> {
    who.require_operator()?;
    let count = state.admin.cancel_workflow(id).await? as u64;
    audit_log::action(
        state,
        who,
        "workflow_cancel",
        &workflow_audit_target(id),
        count,
    )
    .await;
    Ok(WorkflowCancelView {
        action: "workflow_cancel",
        count,
    })
}
