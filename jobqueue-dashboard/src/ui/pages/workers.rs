//! Live worker processes, paginated.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use maud::html;

use crate::error::ApiError;
use crate::format::{ago, id_tail, time};
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::layout::{Nav, confirm_button, page};
use crate::ui::links::job_action_link;
use crate::ui::visible::Visible;
use crate::worker_page::worker_page;

/// Running jobs listed per worker before "+N more".
const MAX_RUNNING_SHOWN: usize = 5;

/// `GET /workers`.
pub(crate) async fn workers(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let params = Params::parse(query.as_deref());
    let cursor = usize::try_from(params.number("cursor", 0)?).unwrap_or(usize::MAX);
    let limit = params.limit()?;
    let (shown, total) = worker_page(&state, cursor, limit).await?;
    let next = cursor.saturating_add(limit);
    let body = html! {
        h1 { "Workers" }
        p.muted { (total) " live worker process(es); each beats every few seconds and vanishes when it stops." }
        @if shown.is_empty() {
            p.empty { "No live workers." }
        } @else {
            div.table-wrap { table #workers-table {
                thead { tr { th { "Identity" } th { "Host" } th.num { "PID" } th { "Queues" } th title="Queues whose ready list it waits on when idle: a push reaches it in one hop" { "Watches" } th.num { "Busy" } th { "Running now" } th { "Started" } th { "Last beat" } th { "Language" } th { "Version" } } }
                tbody {
                    @for view in &shown {
                        @let w = &view.info;
                        tr {
                            td { code { (w.id) } @if w.stopping { " " span.badge.warn { "stopping" } } }
                            td { (Visible(&w.host)) }
                            td.num { (w.pid) }
                            td { (Visible(&w.queues.join(", "))) }
                            td { @if w.watching.is_empty() { span.muted { "—" } } @else { (Visible(&w.watching.join(", "))) } }
                            // Leases are live; the heartbeat's busy count can lag a beat.
                            td.num title=(format!("{} busy at the last heartbeat", w.busy)) { (view.running.len()) " / " (w.concurrency) }
                            td.running {
                                @for job in view.running.iter().take(MAX_RUNNING_SHOWN) {
                                    div {
                                        (Visible(job.job_type.as_deref().unwrap_or("(undecodable)")))
                                        " " code title=(job.id) { (id_tail(&job.id)) }
                                        " on " code { (job.queue) }
                                        " "
                                        (confirm_button(&state, &who, &job_action_link(&state, &job.queue, job.id, "cancel"), "Cancel", "danger small cancel-running", None, Some("Cancel this running job? Its cancellation token fires in the worker.")))
                                    }
                                }
                                @if view.running.len() > MAX_RUNNING_SHOWN {
                                    div.muted { "+" (view.running.len() - MAX_RUNNING_SHOWN) " more" }
                                }
                            }
                            td title=(time(Some(w.started_at))) { (ago(Some(w.started_at))) }
                            td { (ago(Some(w.last_beat_at))) }
                            td { (Visible(&w.language)) }
                            td { (Visible(&w.version)) }
                        }
                    }
                }
            } }
        }
        nav.pager {
            @if cursor > 0 { a.button.secondary href=(state.link(&format!("/workers?limit={limit}"))) { "« First" } }
            @if next < total { a.button.secondary href=(state.link(&format!("/workers?cursor={next}&limit={limit}"))) { "Next »" } }
        }
    };
    Ok(Html(
        page(&state, &who, Nav::Workers, "Workers", None, body).into_string(),
    ))
}
