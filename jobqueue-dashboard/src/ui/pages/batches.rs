//! The batches pages: a queue's batches (filter by state) with a progress
//! bar and their counts, and one batch with its counts, callbacks (fired
//! or not), its parent batch and child batches (nested batches), the first
//! of its waiting jobs (a batch search, linked to the search page for the
//! rest), its dead jobs and, for operators, retry-dead and cancel (they
//! post to `forms/batches.rs`). Descriptions are user text: shown through
//! the escaping templates and [`Visible`].

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use jobqueue_core::admin::{
    BatchInfo, BatchState, DEFAULT_SEARCH_BUDGET, SearchPage, SearchQuery, millis_to_datetime,
};
use maud::{Markup, html};
use uuid::Uuid;

use crate::actions::batches::{batch_id, state_filter};
use crate::error::ApiError;
use crate::format::{ago, count, short, time};
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::flash::flash;
use crate::ui::layout::{Nav, confirm_button, page};
use crate::ui::links::{batch_path, batches_path, job_path, jobs_path, search_path};
use crate::ui::pages::search::hits_table;
use crate::ui::visible::Visible;

/// Most dead jobs of a batch listed on its page.
const DEAD_JOBS_SHOWN: usize = 50;

/// Most jobs of a batch listed on its page (the first page of the batch
/// search, which reads at most [`DEFAULT_SEARCH_BUDGET`] stored jobs, as
/// the search page's first page does); the rest are on the search page.
const BATCH_JOBS_SHOWN: usize = 20;

fn state_name(state: BatchState) -> &'static str {
    match state {
        BatchState::Open => "open",
        BatchState::Finished => "finished",
        BatchState::Cancelled => "cancelled",
    }
}

/// A child batch's unit in its parent, from the known names only.
fn child_state_name(state: &str) -> &'static str {
    match state {
        "pending" => "pending",
        "succeeded" => "succeeded",
        "dead" => "dead",
        "cancelled" => "cancelled",
        _ => "unknown",
    }
}

/// A server-side SVG progress bar: ended share green, dead share red.
fn progress_bar(batch: &BatchInfo) -> Markup {
    let total = batch.total.max(1) as f64;
    let succeeded = (batch.succeeded as f64 / total * 100.0).min(100.0);
    let dead = ((batch.dead + batch.cancelled) as f64 / total * 100.0).min(100.0 - succeeded);
    let percent = batch.percent_done();
    html! {
        svg.progress xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 8" width="140" height="10"
            role="img" aria-label=(format!("{percent}% done")) {
            title { (percent) "% done" }
            rect x="0" y="0" width="100" height="8" fill="#e5e7eb" {}
            rect x="0" y="0" width=(format!("{succeeded:.2}")) height="8" fill="#16a34a" {}
            rect x=(format!("{succeeded:.2}")) y="0" width=(format!("{dead:.2}")) height="8" fill="#dc2626" {}
        }
    }
}

/// `GET /queues/{queue}/batches`.
pub(crate) async fn batches(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(queue): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let params = Params::parse(query.as_deref());
    let filter = state_filter(&params)?;
    let list = state.admin.batches(&queue, filter, 0, 100).await?;
    let filter_link = |name: &str| {
        let base = state.link(&batches_path(&queue));
        if name.is_empty() {
            base
        } else {
            format!("{base}?state={name}")
        }
    };
    let body = html! {
        h1 { "Batches of " code { (Visible(&queue)) } }
        p.muted { "Newest first. A batch completes when no job is pending and its producer sealed it; each callback is enqueued once." }
        p.filters {
            @for (name, label) in [("", "all"), ("open", "open"), ("finished", "finished"), ("cancelled", "cancelled")] {
                @let current = filter.map(state_name).unwrap_or("") == name;
                a href=(filter_link(name)) class={ @if current { "current" } } { (label) } " "
            }
        }
        @if list.is_empty() {
            p.empty { "No batches here." }
        } @else {
            div.table-wrap { table #batches-table {
                thead { tr {
                    th { "Batch" } th { "Description" } th { "State" } th { "Progress" }
                    th.num { "Total" } th.num { "Pending" } th.num { "Succeeded" } th.num { "Dead" } th { "Created" }
                } }
                tbody { @for batch in &list { (summary_row(&state, batch)) } }
            } }
        }
    };
    render(&state, &who, &format!("Batches · {queue}"), &params, body)
}

/// The page around `body`, with the flash message of a form's redirect.
fn render(
    state: &AppState,
    who: &Principal,
    title: &str,
    params: &Params,
    body: Markup,
) -> Result<Html<String>, ApiError> {
    let flash = flash(params);
    Ok(Html(
        page(state, who, Nav::Queues, title, flash.as_deref(), body).into_string(),
    ))
}

fn summary_row(state: &AppState, batch: &BatchInfo) -> Markup {
    let created = millis_to_datetime(batch.created_ms);
    html! {
        tr data-batch=(batch.id) {
            td { a href=(state.link(&batch_path(&batch.queue, batch.id))) { code { (batch.id) } } }
            td { (Visible(&short(&batch.description, 120))) }
            td { span class={ "badge " (state_name(batch.state)) } { (state_name(batch.state)) } }
            td { (progress_bar(batch)) " " (batch.percent_done()) "%" }
            td.num { (count(batch.total)) } td.num { (count(batch.pending)) }
            td.num { (count(batch.succeeded)) } td.num { (count(batch.dead)) }
            td.nowrap title=(time(created)) { (ago(created)) }
        }
    }
}

/// The "Parent batch" fact of a child batch (a link), or nothing.
fn parent_fact(state: &AppState, info: &BatchInfo) -> Markup {
    html! {
        @if let Some(parent) = &info.parent {
            dt { "Parent batch" } dd #batch-parent {
                a href=(state.link(&batch_path(&parent.queue, parent.id))) { code { (parent.id) } }
                " on " code { (Visible(&parent.queue)) }
                span.muted { " (this batch counts there as one job)" }
            }
        }
    }
}

/// The child batches of a parent, with their state in it, or nothing.
fn children_section(state: &AppState, info: &BatchInfo) -> Markup {
    html! {
        @if !info.children.is_empty() {
            h2 { "Child batches" }
            p.muted { "Each counts as one job of this batch, as the parent last learned it (through the child queue's release outbox)." }
            div.table-wrap { table #batch-children {
                thead { tr { th { "Batch" } th { "Queue" } th { "State here" } } }
                tbody { @for child in &info.children {
                    tr data-child=(child.id) {
                        td { a href=(state.link(&batch_path(&child.queue, child.id))) { code { (child.id) } } }
                        td { code { (Visible(&child.queue)) } }
                        td { span class={ "badge " (child_state_name(&child.state)) } { (child_state_name(&child.state)) } }
                    }
                } }
            } }
        }
    }
}

/// The "Jobs" section: the first jobs of the batch (a bounded batch
/// search) and the link to the search page, "Jobs of this batch".
fn jobs_section(state: &AppState, queue: &str, id: Uuid, found: &SearchPage) -> Markup {
    let shown = &found.hits[..found.hits.len().min(BATCH_JOBS_SHOWN)];
    let more = found.next_cursor.is_some() || shown.len() < found.hits.len();
    html! {
        h2 { "Jobs" }
        p {
            a.button.secondary #batch-jobs-search href=(state.link(&search_path(queue, "batch", &id.to_string()))) {
                "Jobs of this batch"
            }
        }
        p.muted #batch-jobs-summary {
            "A batch keeps no list of its jobs: they are found by a bounded search of the queue ("
            (count(found.scanned)) " of " (count(found.total)) " stored jobs read). "
            @if more && !shown.is_empty() {
                "The first " (shown.len()) " found are shown; the search page has them all."
            } @else if !more {
                "All " (shown.len()) " found are shown."
            }
            " Jobs running on a worker are not found by a search."
        }
        @if shown.is_empty() {
            p.empty #batch-jobs-none {
                @if more { "None among the stored jobs read so far: the search page reads on." }
                @else { "No waiting job of this batch found." }
            }
        } @else {
            (hits_table(state, queue, "batch-jobs", shown))
        }
        p.muted {
            "Its jobs are in their queue's lists like any job (their page links back here): "
            a href=(state.link(&jobs_path(queue, "ready"))) { "ready" } ", "
            a href=(state.link(&jobs_path(queue, "retry"))) { "retrying" } ", "
            a href=(state.link(&jobs_path(queue, "dead"))) { "dead" } "."
        }
    }
}

/// `GET /queues/{queue}/batches/{id}`.
pub(crate) async fn batch(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((queue, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let params = Params::parse(query.as_deref());
    let id = batch_id(&id)?;
    let info = state.admin.batch(&queue, id).await?;
    let dead = state
        .admin
        .batch_dead_ids(&queue, id, DEAD_JOBS_SHOWN)
        .await?;
    let jobs = state
        .admin
        .search(
            &queue,
            &SearchQuery::Batch(id),
            None,
            BATCH_JOBS_SHOWN,
            DEFAULT_SEARCH_BUDGET,
        )
        .await?;
    let action = |what: &str| state.link(&format!("{}/{what}", batch_path(&queue, id)));
    let body = html! {
        h1 { "Batch " code #batch-id { (id) } }
        p #batch-description { (Visible(&info.description)) }
        dl.facts {
            dt { "Queue" } dd { a href=(state.link(&batches_path(&queue))) { code { (Visible(&queue)) } } }
            (parent_fact(&state, &info))
            dt { "State" } dd {
                span class={ "badge " (state_name(info.state)) } #batch-state { (state_name(info.state)) }
                @if info.held { " " span.badge.warn { "held by its producer" } }
            }
            dt { "Progress" } dd { (progress_bar(&info)) " " (info.percent_done()) "%" }
            dt { "Created" } dd { (time(millis_to_datetime(info.created_ms))) }
            dt { "Finished" } dd { (time(info.finished_ms.and_then(millis_to_datetime))) }
            @if let Some(ms) = info.expires_in_ms {
                dt { "Kept for" } dd { (count(u64::try_from(ms / 1000).unwrap_or(0))) " s more" }
            }
        }
        h2 { "Counts" }
        div.table-wrap { table #batch-counts {
            thead { tr { th.num { "Total" } th.num { "Pending" } th.num { "Succeeded" } th.num { "Failed attempts" } th.num { "Dead" } th.num { "Cancelled" } } }
            tbody { tr {
                td.num { (count(info.total)) } td.num { (count(info.pending)) } td.num { (count(info.succeeded)) }
                td.num { (count(info.failed_attempts)) } td.num { (count(info.dead)) } td.num { (count(info.cancelled)) }
            } }
        } }
        h2 { "Callbacks" }
        @if info.callbacks.is_empty() {
            p.empty { "No callbacks." }
        } @else {
            ul #batch-callbacks { @for cb in &info.callbacks {
                li data-callback=(cb.kind) {
                    code { "on_" (cb.kind) } " — "
                    @match cb.fired_at_ms.and_then(millis_to_datetime) {
                        Some(at) => { span.badge.succeeded { "fired" } " " span title=(time(Some(at))) { (ago(Some(at))) } }
                        None => { span.badge { "not fired" } }
                    }
                }
            } }
        }
        (children_section(&state, &info))
        (jobs_section(&state, &queue, id, &jobs))
        @if !dead.is_empty() {
            h3 { "Dead jobs of this batch" }
            ul #batch-dead-jobs { @for job in &dead {
                li { a href=(state.link(&job_path(&queue, *job))) { code { (job) } } }
            } }
        }
        div.actions {
            @if info.dead > 0 {
                (confirm_button(&state, &who, &action("retry-dead"), "Retry dead jobs", "batch-retry-dead", None, Some("Put this batch's dead jobs back in the queue?")))
            }
            @if info.state == BatchState::Open {
                (confirm_button(&state, &who, &action("cancel"), "Cancel batch", "danger batch-cancel", None, Some("Cancel this batch? Its waiting jobs will not run and no callback fires.")))
            }
            a.button.secondary href=(state.link(&batches_path(&queue))) { "All batches of " (Visible(&queue)) }
        }
    };
    render(&state, &who, &format!("Batch {id}"), &params, body)
}
