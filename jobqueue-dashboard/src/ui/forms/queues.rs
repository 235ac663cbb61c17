//! The queue forms: pause, resume (the queues table's buttons) and purge
//! (the confirmation page's).

use axum::response::Redirect;

use super::operator_form::{FormInput, OperatorForm, PathSegments};
use crate::actions::queues::{self, QueueAction};
use crate::error::ApiError;
use crate::params::Params;

impl FormInput for QueueAction {
    fn parse(path: &PathSegments, _: &Params) -> Result<Self, ApiError> {
        QueueAction::parse(path.get("action"))
    }
}

/// `POST /queues/{queue}/{pause|resume|purge}`: back to the queues page.
pub(crate) async fn queue_action(form: OperatorForm<QueueAction>) -> Result<Redirect, ApiError> {
    let outcome = queues::queue_action(&form.state, &form.who, &form.queue, form.input).await?;
    Ok(form.back("/queues", &outcome.action, outcome.count))
}
