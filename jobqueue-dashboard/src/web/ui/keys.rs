//! A queue's keyed flow control: the limits of each key class (with the
//! forms of [`super::key_limits`] to set and clear them, for operators),
//! and the keys with work, their waiting and running jobs.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use jobqueue_core::KeyLimits;
use maud::{Markup, html};

use super::super::api::known_queue;
use super::super::auth::Principal;
use super::super::config::Role;
use super::super::error::ApiError;
use super::super::flow_actions::format_period;
use super::super::params::Params;
use super::super::state::AppState;
use super::jobs::flash;
use super::key_limits::{clear_cell, set_form};
use super::layout::{Nav, page};
use super::queues::url;
use super::visible::Visible;

/// `GET /queues/{queue}/keys`.
pub(crate) async fn keys(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let name = known_queue(&state, &name).await?;
    let params = Params::parse(query.as_deref());
    let limit = params.limit()?;
    let operator = who.role == Role::Operator;
    let info = state.admin.queue(&name).await?;
    let classes = state.admin.key_limits(&name).await?;
    let keys = state.admin.flow_keys(&name, limit).await?;
    let body = html! {
        h1 { "Flow keys of " code { (name) } }
        p.muted {
            "Jobs with a flow key run within their key's limits across every worker process, "
            "in order within a key; a key at its limit holds back only its own jobs. "
            (info.keyed) " keyed jobs waiting."
        }
        h2 { "Limits per key class" }
        table #key-classes {
            thead { tr { th { "class" } th { "max running per key" } th { "rate per key" } @if operator { th {} } } }
            tbody {
                @for class in &classes {
                    tr {
                        td { code { (class.class) } }
                        (limit_cells(&class.limits))
                        @if operator { (clear_cell(&state, &who, &name, &class.class)) }
                    }
                }
                tr.muted { td { "any other class" } (limit_cells(&KeyLimits::DEFAULT)) @if operator { td {} } }
            }
        }
        @if operator { (set_form(&state, &who, &name)) }
        h2 { "Keys with work" }
        @if keys.is_empty() {
            p.muted #no-keys { "No key has jobs waiting or running." }
        } @else {
            table #flow-keys {
                thead { tr { th { "key" } th.num { "waiting" } th.num { "running" } th { "max running" } th { "rate" } } }
                tbody {
                    @for key in &keys {
                        tr {
                            td { code { (Visible(&key.key)) } }
                            td.num { (key.waiting) }
                            td.num { (key.running) }
                            (limit_cells(&key.limits))
                        }
                    }
                }
            }
            @if keys.len() >= limit {
                p.muted { "Showing the first " (limit) " keys; raise ?limit= to see more." }
            }
        }
        p { a href=(state.link(&format!("/queues/{}/jobs/ready", url(&name)))) { "Back to queue " (name) } }
    };
    let title = format!("{name} · flow keys");
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

fn limit_cells(limits: &KeyLimits) -> Markup {
    html! {
        td { (limits.max_running.map_or("no limit".to_owned(), |m| m.to_string())) }
        td {
            (limits.rate.map_or("no limit".to_owned(), |rate| format!(
                "{} per {}",
                rate.limit,
                format_period(u64::try_from(rate.per.as_millis()).unwrap_or(u64::MAX))
            )))
        }
    }
}
