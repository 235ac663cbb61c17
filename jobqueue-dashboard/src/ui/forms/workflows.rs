//! The workflow page's forms: cancel the workflow, retry it from a node.

use axum::response::Redirect;
use uuid::Uuid;

use crate::actions::workflows;
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::ui::forms::operator_form::{FormInput, OperatorForm, PathSegments};
use crate::ui::links::workflow_path;

/// The workflow a form acts on.
pub(crate) struct WorkflowForm {
    id: Uuid,
}

impl FormInput for WorkflowForm {
    const KNOWN_QUEUE: bool = false;

    fn parse(path: &PathSegments, _: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            id: params::job_id(path.get("id"))?,
        })
    }
}

/// `POST /workflows/{id}/cancel`: back to the workflow's page.
pub(crate) async fn cancel(form: OperatorForm<WorkflowForm>) -> Result<Redirect, ApiError> {
    let id = form.input.id;
    let outcome = workflows::cancel_workflow(&form.state, &form.who, id).await?;
    Ok(form.back(&workflow_path(id), outcome.action, outcome.count))
}

/// The workflow and node a retry form acts on.
pub(crate) struct WorkflowNodeForm {
    id: Uuid,
    node: String,
}

impl FormInput for WorkflowNodeForm {
    const KNOWN_QUEUE: bool = false;

    fn parse(path: &PathSegments, _: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            id: params::job_id(path.get("id"))?,
            node: path.get("node").to_owned(),
        })
    }
}

/// `POST /workflows/{id}/retry-from/{node}`: back to the workflow's page.
pub(crate) async fn retry_from(form: OperatorForm<WorkflowNodeForm>) -> Result<Redirect, ApiError> {
    let id = form.input.id;
    let outcome =
        workflows::retry_workflow_from(&form.state, &form.who, id, &form.input.node).await?;
    Ok(form.back(
        &workflow_path(id),
        outcome.action,
        outcome.enqueued.len() as u64,
    ))
}
