//! The cron page's buttons: pause, resume, run now, remove.

use axum::response::Redirect;

use super::operator_form::{FormInput, OperatorForm, PathSegments};
use crate::actions::cron::{self, CronAction};
use crate::error::ApiError;
use crate::params::Params;

/// `{action}` on cron entry `{name}`.
pub(crate) struct EntryForm {
    name: String,
    action: CronAction,
}

impl FormInput for EntryForm {
    /// A cron entry's queue need not have had a job yet.
    const KNOWN_QUEUE: bool = false;

    fn parse(path: &PathSegments, _: &Params) -> Result<Self, ApiError> {
        let action = CronAction::parse(path.get("action"))?;
        Ok(Self {
            name: path.get("name").to_owned(),
            action,
        })
    }
}

/// `POST /cron/{queue}/{name}/{pause|resume|run|remove}`: back to the cron page.
pub(crate) async fn entry_action(form: OperatorForm<EntryForm>) -> Result<Redirect, ApiError> {
    let EntryForm { name, action } = &form.input;
    let outcome = cron::cron_action(&form.state, &form.who, &form.queue, name, *action).await?;
    let runs = u64::from(outcome.job_id.is_some());
    Ok(form.back("/cron", &outcome.action, runs))
}
