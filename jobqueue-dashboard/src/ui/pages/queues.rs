//! The queues page, the queues table it shares with the overview, and
//! the confirmation step before a purge.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Html;
use jobqueue_core::QueueInfo;
use maud::{Markup, html};

use crate::config::Role;
use crate::error::ApiError;
use crate::format::{count, duration_ms, rate};
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::layout::{Nav, action_button, csrf_field, page};
use crate::ui::links::{jobs_path, url};
use crate::ui::pages::scaling::scaling_panel;

/// `GET /queues`.
pub(crate) async fn queues(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
) -> Result<Html<String>, ApiError> {
    // Sizes and flags fresh (an action just redirected here); rates from
    // the shared snapshot (they need two readings).
    let queues = state.admin.queues().await?;
    let snap = state.snapshot.get(&state.admin).await?;
    let scaling = state.scaling.get(&state.admin).await?;
    let body = html! {
        h1 { "Queues" }
        (invalid_names_warning(&snap.invalid_queue_names))
        (queues_table(&state, &who, &queues, &snap.queue_rates))
        @if !queues.is_empty() { (scaling_panel(&scaling)) }
    };
    Ok(Html(
        page(&state, &who, Nav::Queues, "Queues", None, body).into_string(),
    ))
}

/// A warning naming the registry entries that are not valid queue names
/// (nothing when there are none): they are skipped everywhere.
pub(crate) fn invalid_names_warning(names: &[String]) -> Markup {
    html! {
        @if !names.is_empty() {
            p.flash.warning #invalid-queue-names role="alert" {
                "The queue registry holds names that are not valid queue names; they are skipped: "
                @for (i, name) in names.iter().enumerate() {
                    @if i > 0 { ", " }
                    code { (name) }
                }
                ". A producer that does not check names wrote them; remove them with SREM."
            }
        }
    }
}

/// Every queue with its sizes and, for operators, pause/resume/purge.
pub(crate) fn queues_table(
    state: &AppState,
    who: &Principal,
    queues: &[QueueInfo],
    rates: &HashMap<String, f64>,
) -> Markup {
    let jobs_link = |q: &str, s: &str| state.link(&jobs_path(q, s));
    html! {
        @if queues.is_empty() {
            p.empty { "No queues yet: they appear when the first job is enqueued." }
        } @else {
            div.table-wrap {
                table #queues-table {
                    thead { tr {
                        th { "Queue" } th.num { "Ready" } th.num { "Scheduled" } th.num { "Retry" }
                        th.num { "Active" } th.num { "Dead" } th.num { "Cancelled" } th.num { "Expired" } th.num { "Latency" }
                        th.num { "Throughput" } th.num { "Processed" } th.num { "Failed" } th { "" }
                    } }
                    tbody {
                        @for q in queues {
                            tr data-queue=(q.name) {
                                td {
                                    a href=(jobs_link(&q.name, "ready")) { (q.name) }
                                    @if q.paused { " " span.badge.warn { "paused" } }
                                }
                                td.num data-f="ready" { a href=(jobs_link(&q.name, "ready")) { (count(q.ready)) } }
                                td.num data-f="scheduled" { a href=(jobs_link(&q.name, "scheduled")) { (count(q.scheduled)) } }
                                td.num data-f="retry" { a href=(jobs_link(&q.name, "retry")) { (count(q.retry)) } }
                                td.num data-f="active" { a href=(jobs_link(&q.name, "active")) { (count(q.active)) } }
                                td.num data-f="dead" class={ @if q.dead > 0 { "bad" } } {
                                    a href=(jobs_link(&q.name, "dead")) { (count(q.dead)) }
                                }
                                td.num data-f="cancelled" { a href=(jobs_link(&q.name, "cancelled")) { (count(q.cancelled)) } }
                                td.num data-f="expired" { a href=(jobs_link(&q.name, "expired")) { (count(q.expired)) } }
                                td.num data-f="latency" { (duration_ms(q.latency_ms)) }
                                td.num data-f="rate" { (rate(rates.get(&q.name).copied().unwrap_or(0.0))) }
                                td.num data-f="processed" { (count(q.processed)) }
                                td.num data-f="failed" { (count(q.failed)) }
                                td.actions {
                                    @if q.paused {
                                        (action_button(state, who, &state.link(&format!("/queues/{}/resume", url(&q.name))), "Resume", "secondary", None))
                                    } @else {
                                        (action_button(state, who, &state.link(&format!("/queues/{}/pause", url(&q.name))), "Pause", "secondary", None))
                                    }
                                    @if who.role == Role::Operator {
                                        a.button.danger href=(state.link(&format!("/queues/{}/confirm-purge", url(&q.name)))) { "Purge…" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /queues/{queue}/confirm-purge`: the confirmation step before a
/// purge (a page, so no script is needed).
pub(crate) async fn confirm_purge(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Html<String>, ApiError> {
    who.require_operator()?;
    let name = state.known_queue(&name).await?;
    let info = state.admin.queue(&name).await?;
    let body = html! {
        h1 { "Purge " (name) "?" }
        p { "This deletes all " strong { (count(info.ready)) } " ready jobs of queue " code { (name) } ". Scheduled, retrying, running and dead jobs stay. This cannot be undone." }
        form method="post" action=(state.link(&format!("/queues/{}/purge", url(&name)))) {
            (csrf_field(&state, &who))
            button.danger type="submit" #confirm-purge { "Purge " (count(info.ready)) " ready jobs" }
            " "
            a.button.secondary href=(state.link("/queues")) { "Cancel" }
        }
    };
    Ok(Html(
        page(&state, &who, Nav::Queues, "Purge", None, body).into_string(),
    ))
}
