//! The batch page's buttons: retry its dead jobs, cancel it.

use axum::response::Redirect;

use super::operator_form::{FormInput, OperatorForm, PathSegments};
use crate::actions::batches::{self, BatchAction};
use crate::error::ApiError;
use crate::params::Params;
use crate::ui::links::batch_path;

/// `{action}` on batch `{id}`.
pub(crate) struct BatchForm {
    id: uuid::Uuid,
    action: BatchAction,
}

impl FormInput for BatchForm {
    const KNOWN_QUEUE: bool = true;

    fn parse(path: &PathSegments, _: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            id: batches::batch_id(path.get("id"))?,
            action: BatchAction::parse(path.get("action"))?,
        })
    }
}

/// `POST /queues/{queue}/batches/{id}/{retry-dead|cancel}`: back to the batch page.
pub(crate) async fn batch_action(form: OperatorForm<BatchForm>) -> Result<Redirect, ApiError> {
    let BatchForm { id, action } = &form.input;
    let outcome = batches::batch_action(&form.state, &form.who, &form.queue, *id, *action).await?;
    Ok(form.back(&batch_path(&form.queue, *id), outcome.action, outcome.jobs))
}
