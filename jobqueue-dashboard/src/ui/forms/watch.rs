//! A queue's watch form (the history page's): what it keeps for watchers.

use axum::response::Redirect;

use super::operator_form::{FormInput, OperatorForm, PathSegments};
use crate::actions::watch::{self, WatchView};
use crate::error::ApiError;
use crate::params::Params;
use crate::ui::links::url;

impl FormInput for WatchView {
    fn parse(_: &PathSegments, fields: &Params) -> Result<Self, ApiError> {
        let cap = |name: &str| -> Result<Option<u64>, ApiError> {
            match fields.get(name).map(str::trim) {
                None | Some("") => Ok(None),
                Some(text) => match text.parse::<u64>() {
                    Ok(n) if n >= 100 => Ok(Some(n)),
                    _ => Err(ApiError::bad_request(format!(
                        "{} must be a whole number of at least 100, or empty for off; got {text:?}",
                        name.replace('_', " ")
                    ))),
                },
            }
        };
        Ok(WatchView {
            events_cap: cap("events_cap")?,
            history_cap: cap("history_cap")?,
            history_max: cap("history_max")?,
        })
    }
}

/// `POST /queues/{queue}/watch`: `events_cap`, `history_cap` and
/// `history_max`, each empty for off; back to the history page.
pub(crate) async fn set(form: OperatorForm<WatchView>) -> Result<Redirect, ApiError> {
    watch::set_watch(&form.state, &form.who, &form.queue, form.input).await?;
    Ok(form.back(
        &format!("/queues/{}/history", url(&form.queue)),
        "set_watch",
        0,
    ))
}
