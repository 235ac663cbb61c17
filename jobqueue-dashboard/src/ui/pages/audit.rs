//! The audit log of operator actions and refused requests.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use jobqueue_core::admin::{AUDIT_LOG_CAPACITY, OUTCOME_DONE, REFUSALS_PER_MINUTE};
use maud::html;

use crate::error::ApiError;
use crate::format::{count, time};
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::layout::{Nav, page};
use crate::ui::visible::Visible;

/// `GET /audit`.
pub(crate) async fn audit(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let params = Params::parse(query.as_deref());
    let limit = params.limit()?;
    let entries = state.admin.audit_log(params.get("cursor"), limit).await?;
    let older = entries
        .last()
        .and_then(|e| e.id.as_deref())
        .filter(|_| entries.len() == limit);
    let body = html! {
        h1 { "Audit log" }
        p.muted {
            "Every retry, delete, purge, pause, resume, cancel, cron action and limits change that changed something, "
            "and refused requests (at most " (REFUSALS_PER_MINUTE) " a minute of each kind), newest first; about the last "
            (count(AUDIT_LOG_CAPACITY as u64)) " entries are kept."
        }
        @if entries.is_empty() {
            p.empty { "No operator actions yet." }
        } @else {
            div.table-wrap { table #audit-table {
                thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Target" } th.num { "Jobs" } th { "Outcome" } th { "Client" } } }
                tbody {
                    @for e in &entries {
                        tr class={ @if e.outcome != OUTCOME_DONE { "refused" } } {
                            td.nowrap { (time(Some(e.at))) }
                            td {
                                (Visible(&e.actor))
                                @if let Some(role) = &e.role { " " span.muted { "(" (Visible(role)) ")" } }
                            }
                            td { (Visible(&e.action)) }
                            td { code { (Visible(&e.target)) } }
                            td.num { (count(e.count)) }
                            td { (Visible(&e.outcome)) }
                            td { (Visible(e.client.as_deref().unwrap_or(""))) }
                        }
                    }
                }
            } }
        }
        nav.pager {
            @if let Some(id) = older {
                a.button.secondary href=(state.link(&format!("/audit?cursor={id}&limit={limit}"))) { "Older »" }
            }
        }
    };
    Ok(Html(
        page(&state, &who, Nav::Audit, "Audit log", None, body).into_string(),
    ))
}
