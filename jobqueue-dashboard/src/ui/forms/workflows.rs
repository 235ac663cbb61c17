//! The workflow page's form: cancel the workflow.

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
