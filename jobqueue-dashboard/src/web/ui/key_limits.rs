//! The Flow keys page's forms: set or clear the limits of one key class
//! (operators only, CSRF-checked, audit-logged), and the markup of those
//! forms.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Redirect;
use maud::{Markup, html};

use super::super::api::known_queue;
use super::super::auth::Principal;
use super::super::error::ApiError;
use super::super::key_limits::set_key_limits;
use super::super::params::Params;
use super::super::state::AppState;
use super::forms::{back_done, form};
use super::layout::csrf_field;
use super::limits::limits_from_form;
use super::queues::url;

/// The class a form names (`class`, required).
fn class_field(form: &Params) -> Result<String, ApiError> {
    form.get("class")
        .map(|class| class.trim().to_owned())
        .filter(|class| !class.is_empty())
        .ok_or_else(|| ApiError::bad_request("name the key class (customer for keys customer:…)"))
}

fn keys_page(state: &AppState, queue: &str) -> String {
    state.link(&format!("/queues/{}/keys", url(queue)))
}

/// `POST /queues/{queue}/key-limits`: `class`, `max_running` and `rate`
/// (`10/1s`), each limit empty for none.
pub(crate) async fn set(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Redirect, ApiError> {
    let form = form(&body)?;
    let class = class_field(&form)?;
    let limits = limits_from_form(&form)?;
    let name = known_queue(&state, &name).await?;
    set_key_limits(&state, &who, &name, &class, Some(limits)).await?;
    Ok(back_done(keys_page(&state, &name), "set_key_limits", 0))
}

/// `POST /queues/{queue}/key-limits/clear`: `class` gets the default again.
pub(crate) async fn clear(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Redirect, ApiError> {
    let form = form(&body)?;
    let class = class_field(&form)?;
    let name = known_queue(&state, &name).await?;
    set_key_limits(&state, &who, &name, &class, None).await?;
    Ok(back_done(keys_page(&state, &name), "clear_key_limits", 0))
}

/// The form that sets a class's limits.
pub(super) fn set_form(state: &AppState, who: &Principal, queue: &str) -> Markup {
    let action = state.link(&format!("/queues/{}/key-limits", url(queue)));
    html! {
        h2 { "Set the limits of a class" }
        form.filters method="post" action=(action) #key-limits-form {
            (csrf_field(state, who))
            label { "Class " input type="text" name="class" required maxlength="200" placeholder="e.g. customer"; }
            label { "Max running per key " input type="number" min="1" max="1000000" name="max_running" placeholder="no limit"; }
            label { "Rate per key " input type="text" name="rate" placeholder="e.g. 10/1s"; }
            button type="submit" { "Set limits" }
        }
        p.muted {
            "The class is the text before the first \":\" of a key (customer for customer:7). "
            "Leave a field empty for no limit of that kind; both empty: the class's keys are not limited. "
            "A rate is starts/period per key: 10/1s, 20/500ms, 5/1m. Applies at the next fetch."
        }
    }
}

/// The cell with a class's *Clear* button (back to the default).
pub(super) fn clear_cell(state: &AppState, who: &Principal, queue: &str, class: &str) -> Markup {
    let action = state.link(&format!("/queues/{}/key-limits/clear", url(queue)));
    html! {
        td {
            form.inline method="post" action=(action) {
                (csrf_field(state, who))
                input type="hidden" name="class" value=(class);
                button.secondary type="submit" title="Back to the default: one running job per key" { "Clear" }
            }
        }
    }
}
