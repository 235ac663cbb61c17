//! The Flow keys page's forms: set or clear the limits of one key class.

use axum::response::Redirect;

use super::limits::limits_from_form;
use super::operator_form::{FormInput, OperatorForm, PathSegments};
use crate::actions::keys;
use crate::actions::limits::LimitsView;
use crate::error::ApiError;
use crate::params::Params;
use crate::ui::links::url;

/// The class a form names (`class`, required).
fn class_field(form: &Params) -> Result<String, ApiError> {
    form.get("class")
        .map(|class| class.trim().to_owned())
        .filter(|class| !class.is_empty())
        .ok_or_else(|| ApiError::bad_request("name the key class (customer for keys customer:…)"))
}

/// `class` and its new limits: `max_running` and `rate` (`10/1s`), each
/// empty for none.
pub(crate) struct SetClassForm {
    class: String,
    limits: LimitsView,
}

impl FormInput for SetClassForm {
    fn parse(_: &PathSegments, fields: &Params) -> Result<Self, ApiError> {
        let class = class_field(fields)?;
        let limits = limits_from_form(fields)?;
        Ok(Self { class, limits })
    }
}

/// `POST /queues/{queue}/key-limits`: back to the Flow keys page.
pub(crate) async fn set(form: OperatorForm<SetClassForm>) -> Result<Redirect, ApiError> {
    let SetClassForm { class, limits } = &form.input;
    keys::set_key_limits(&form.state, &form.who, &form.queue, class, Some(*limits)).await?;
    Ok(form.back(&keys_path(&form.queue), "set_key_limits", 0))
}

/// The `class` whose limits go back to the default.
pub(crate) struct ClearClassForm {
    class: String,
}

impl FormInput for ClearClassForm {
    fn parse(_: &PathSegments, fields: &Params) -> Result<Self, ApiError> {
        let class = class_field(fields)?;
        Ok(Self { class })
    }
}

/// `POST /queues/{queue}/key-limits/clear`: back to the Flow keys page.
pub(crate) async fn clear(form: OperatorForm<ClearClassForm>) -> Result<Redirect, ApiError> {
    let class = &form.input.class;
    keys::set_key_limits(&form.state, &form.who, &form.queue, class, None).await?;
    Ok(form.back(&keys_path(&form.queue), "clear_key_limits", 0))
}

fn keys_path(queue: &str) -> String {
    format!("/queues/{}/keys", url(queue))
}
