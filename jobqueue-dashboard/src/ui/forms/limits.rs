//! A queue's flow limits forms (the limits page's): set them, clear them.

use axum::response::Redirect;

use super::operator_form::{FormInput, OperatorForm, PathSegments};
use crate::actions::limits::{self, LimitsView, parse_rate};
use crate::error::ApiError;
use crate::params::Params;
use crate::ui::links::url;

/// The limits of a form's `max_running` and `rate` (`100/1s`) fields,
/// each empty for no limit (shared by the queue and key-class forms).
pub(super) fn limits_from_form(form: &Params) -> Result<LimitsView, ApiError> {
    let max_running = match form.get("max_running").map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<u32>().map_err(|_| {
            ApiError::bad_request(format!(
                "max running must be a whole number of at least 1, got {text:?}"
            ))
        })?),
    };
    let rate = match form.get("rate").map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(parse_rate(text).map_err(ApiError::bad_request)?),
    };
    Ok(LimitsView { max_running, rate })
}

impl FormInput for LimitsView {
    fn parse(_: &PathSegments, fields: &Params) -> Result<Self, ApiError> {
        limits_from_form(fields)
    }
}

/// `POST /queues/{queue}/limits`: `max_running` and `rate` (`100/1s`),
/// each empty for no limit; back to the limits page.
pub(crate) async fn set(form: OperatorForm<LimitsView>) -> Result<Redirect, ApiError> {
    limits::set_limits(&form.state, &form.who, &form.queue, Some(form.input)).await?;
    Ok(form.back(&limits_path(&form.queue), "set_limits", 0))
}

/// `POST /queues/{queue}/limits/clear`: back to the limits page.
pub(crate) async fn clear(form: OperatorForm<()>) -> Result<Redirect, ApiError> {
    limits::set_limits(&form.state, &form.who, &form.queue, None).await?;
    Ok(form.back(&limits_path(&form.queue), "clear_limits", 0))
}

fn limits_path(queue: &str) -> String {
    format!("/queues/{}/limits", url(queue))
}
