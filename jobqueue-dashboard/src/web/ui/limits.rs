//! A queue's flow limits: the page that shows them, and its forms to set
//! or clear them.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, Redirect};
use maud::html;

use super::super::api::known_queue;
use super::super::auth::Principal;
use super::super::config::Role;
use super::super::error::ApiError;
use super::super::flow_actions::{self, LimitsView, format_period, parse_rate};
use super::super::params::Params;
use super::super::state::AppState;
use super::forms::{back_done, form};
use super::jobs::flash;
use super::layout::{Nav, csrf_field, page};
use super::queues::url;

pub(crate) async fn limits(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let params = Params::parse(query.as_deref());
    let name = known_queue(&state, &name).await?;
    let limits = LimitsView::from(state.admin.queue_limits(&name).await?);
    let base = state.link(&format!("/queues/{}/limits", url(&name)));
    let rate_text = limits
        .rate
        .map(|r| format!("{}/{}", r.limit, format_period(r.per_ms)));
    let body = html! {
        h1 { "Flow limits of " code { (name) } }
        p.muted {
            "Enforced in Redis across every worker process: at most this many jobs of the queue running at once, "
            "and at most this many started per period. Workers apply a change within a second."
        }
        dl.facts #limits {
            dt { "Max running" } dd #limit-max-running { (limits.max_running.map_or("no limit".to_owned(), |m| m.to_string())) }
            dt { "Rate" } dd #limit-rate {
                (limits.rate.map_or("no limit".to_owned(), |r| format!("{} per {}", r.limit, format_period(r.per_ms))))
            }
        }
        @if who.role == Role::Operator {
            h2 { "Change" }
            form.filters method="post" action=(base) #limits-form {
                (csrf_field(&state, &who))
                label { "Max running " input type="number" min="1" max="1000000" name="max_running" value=[limits.max_running] placeholder="no limit"; }
                label { "Rate " input type="text" name="rate" value=[rate_text.as_deref()] placeholder="e.g. 100/1s"; }
                button type="submit" { "Set limits" }
            }
            p.muted { "Leave a field empty for no limit. A rate is starts/period: 100/1s, 20/500ms, 5/1m." }
            form.inline method="post" action=(format!("{base}/clear")) {
                (csrf_field(&state, &who))
                button.secondary type="submit" #clear-limits { "Clear all limits" }
            }
        }
        p { a href=(state.link(&format!("/queues/{}/jobs/ready", url(&name)))) { "Back to queue " (name) } }
    };
    let title = format!("{name} · limits");
    Ok(Html(
        page(
            &state,
            &who,
            Nav::Queues,
            &title,
            flash(&params).as_deref(),
            body,
        )
        .into_string(),
    ))
}

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

/// The form: `max_running` and `rate` (`100/1s`), each empty for no limit.
pub(crate) async fn set_limits(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Redirect, ApiError> {
    let form = form(&body)?;
    let view = limits_from_form(&form)?;
    let name = known_queue(&state, &name).await?;
    flow_actions::set_limits(&state, &who, &name, Some(view)).await?;
    Ok(back_done(
        state.link(&format!("/queues/{}/limits", url(&name))),
        "set_limits",
        0,
    ))
}

pub(crate) async fn clear_limits(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Redirect, ApiError> {
    form(&body)?;
    let name = known_queue(&state, &name).await?;
    flow_actions::set_limits(&state, &who, &name, None).await?;
    Ok(back_done(
        state.link(&format!("/queues/{}/limits", url(&name))),
        "clear_limits",
        0,
    ))
}
