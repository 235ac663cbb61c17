//! The Flow keys page's forms: set or clear the limits of one key class,
//! and the weight of one key class or flow key.

use axum::response::Redirect;

use super::limits::limits_from_form;
use super::operator_form::{FormInput, OperatorForm, PathSegments};
use crate::actions::limits::LimitsView;
use crate::actions::{keys, weights};
use crate::error::ApiError;
use crate::params::Params;
use crate::ui::links::url;

/// The required text field `field` of a form, trimmed; 400 with `hint`
/// when it is missing or empty.
fn required_field(form: &Params, field: &str, hint: &str) -> Result<String, ApiError> {
    form.get(field)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::bad_request(hint))
}

/// The class a form names (`class`, required).
fn class_field(form: &Params) -> Result<String, ApiError> {
    required_field(
        form,
        "class",
        "name the key class (customer for keys customer:…)",
    )
}

/// The key class or flow key a weight form names (`name`, required).
fn weight_name_field(form: &Params) -> Result<String, ApiError> {
    required_field(
        form,
        "name",
        "name the key class (tenant) or the flow key (tenant:4711)",
    )
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

/// `name` and its new `weight` (a whole number, 1-1000).
pub(crate) struct SetWeightForm {
    name: String,
    weight: u32,
}

impl FormInput for SetWeightForm {
    fn parse(_: &PathSegments, fields: &Params) -> Result<Self, ApiError> {
        let name = weight_name_field(fields)?;
        let text = required_field(fields, "weight", "give a weight (1 for the default)")?;
        let weight = text.parse::<u32>().map_err(|_| {
            ApiError::bad_request(format!(
                "a weight must be a whole number of at least 1, got {text:?}"
            ))
        })?;
        Ok(Self { name, weight })
    }
}

/// `POST /queues/{queue}/weights`: back to the Flow keys page.
pub(crate) async fn set_weight(form: OperatorForm<SetWeightForm>) -> Result<Redirect, ApiError> {
    let SetWeightForm { name, weight } = &form.input;
    weights::set_flow_weight(&form.state, &form.who, &form.queue, name, Some(*weight)).await?;
    Ok(form.back(&keys_path(&form.queue), "set_flow_weight", 0))
}

/// The `name` whose weight is removed.
pub(crate) struct ClearWeightForm {
    name: String,
}

impl FormInput for ClearWeightForm {
    fn parse(_: &PathSegments, fields: &Params) -> Result<Self, ApiError> {
        let name = weight_name_field(fields)?;
        Ok(Self { name })
    }
}

/// `POST /queues/{queue}/weights/clear`: back to the Flow keys page.
pub(crate) async fn clear_weight(
    form: OperatorForm<ClearWeightForm>,
) -> Result<Redirect, ApiError> {
    let name = &form.input.name;
    weights::set_flow_weight(&form.state, &form.who, &form.queue, name, None).await?;
    Ok(form.back(&keys_path(&form.queue), "clear_flow_weight", 0))
}

fn keys_path(queue: &str) -> String {
    format!("/queues/{}/keys", url(queue))
}
