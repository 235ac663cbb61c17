//! The audit log of operator actions.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use jobqueue_core::admin::MAX_AUDIT_ENTRIES;
use maud::html;

use super::super::auth::Principal;
use super::super::error::ApiError;
use super::super::params::Params;
use super::super::state::AppState;
use super::layout::{Nav, page};
use crate::format::{count, time};

pub(crate) async fn audit(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let params = Params::parse(query.as_deref());
    let cursor = usize::try_from(params.number("cursor", 0)?).unwrap_or(usize::MAX);
    let limit = params.limit()?;
    let entries = state.admin.audit_log(cursor, limit).await?;
    let next = cursor.saturating_add(limit);
    let body = html! {
        h1 { "Audit log" }
        p.muted { "Every retry, delete, purge, pause, resume, cancel, cron action and limits change, newest first (the last " (count(MAX_AUDIT_ENTRIES as u64)) " are kept)." }
        @if entries.is_empty() {
            p.empty { "No operator actions yet." }
        } @else {
            div.table-wrap { table #audit-table {
                thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Target" } th.num { "Jobs" } } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { (time(Some(e.at))) }
                            td { (e.actor) }
                            td { (e.action) }
                            td { code { (e.target) } }
                            td.num { (count(e.count)) }
                        }
                    }
                }
            } }
        }
        nav.pager {
            @if entries.len() == limit && next < MAX_AUDIT_ENTRIES {
                a.button.secondary href=(state.link(&format!("/audit?cursor={next}&limit={limit}"))) { "Older »" }
            }
        }
    };
    Ok(Html(
        page(&state, &who, Nav::Audit, "Audit log", None, body).into_string(),
    ))
}
