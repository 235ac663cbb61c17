//! Cancelling a workflow and retrying it from a failed node (the API's
//! `POST /workflows/{id}/cancel` and `POST /workflows/{id}/retry-from/{node}`,
//! and the workflow page's forms).

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

/// What a retry from a node did.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkflowRetryView {
    pub(crate) action: &'static str,
    /// (node, new job id) for every node re-run, in topological order.
    pub(crate) enqueued: Vec<(String, Uuid)>,
}

/// Retries workflow `id` from node `node` (operator role); 404 when the
/// workflow is unknown, 400 when the node is unknown or did not fail,
/// 409-class conflict as 400 when another retry claimed it meanwhile.
pub(crate) async fn retry_workflow_from(
    state: &AppState,
    who: &Principal,
    id: Uuid,
    node: &str,
) -> Result<WorkflowRetryView, ApiError> {
    who.require_operator()?;
    let report = state.admin.retry_workflow_from(id, node).await?;
    let count = report.enqueued.len() as u64;
    audit_log::action(
        state,
        who,
        "workflow_retry_from",
        &format!("{} node {node:?}", workflow_audit_target(id)),
        count,
    )
    .await;
    Ok(WorkflowRetryView {
        action: "workflow_retry_from",
        enqueued: report.enqueued,
    })
}
