//! The cron page: every entry with its schedule, next and last run and the
//! last run's result, and (for operators) pause, resume, run now, remove
//! (they post to `forms/cron.rs`).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use jobqueue_core::admin::cron::CronEntryInfo;
use jobqueue_core::admin::millis_to_datetime;
use maud::{Markup, html};

use crate::error::ApiError;
use crate::format::{ago, count, id_tail, short, time, variant_name};
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::flash::flash;
use crate::ui::layout::{Nav, action_button, confirm_button, page};
use crate::ui::links::{job_path, jobs_path, url};
use crate::ui::visible::Visible;

/// `GET /cron`.
pub(crate) async fn cron(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let params = Params::parse(query.as_deref());
    let entries = state.admin.cron_entries().await?;
    let body = html! {
        h1 { "Cron" }
        p.muted {
            "Periodic jobs registered by workers and schedulers. Each tick is enqueued once, however many processes register the entry. "
            "Pausing stops enqueueing at once; resuming does not run the ticks missed while paused. "
            "An entry still registered in a running process comes back after removal."
        }
        @if entries.is_empty() {
            p.empty { "No cron entries: they appear when a worker or scheduler with cron entries starts." }
        } @else {
            div.table-wrap { table #cron-table {
                thead { tr {
                    th { "Entry" } th { "Queue" } th { "Schedule" } th { "Job type" }
                    th { "Next run" } th { "Last run" } th { "Last result" } th.num { "Skipped" } th { "" }
                } }
                tbody {
                    @for entry in &entries { (entry_row(&state, &who, entry)) }
                }
            } }
        }
    };
    Ok(Html(
        page(
            &state,
            &who,
            Nav::Cron,
            "Cron",
            flash(&params).as_deref(),
            body,
        )
        .into_string(),
    ))
}

fn entry_row(state: &AppState, who: &Principal, entry: &CronEntryInfo) -> Markup {
    let action = |what: &str| {
        state.link(&format!(
            "/cron/{}/{}/{what}",
            url(&entry.queue),
            url(&entry.name)
        ))
    };
    let job_link = |id: &uuid::Uuid| state.link(&job_path(&entry.queue, *id));
    html! {
        tr data-cron=(format!("{}/{}", entry.queue, entry.name)) {
            td {
                strong { (Visible(&entry.name)) }
                @if entry.paused_at.is_some() {
                    " " span.badge.warn title=(time(entry.paused_at)) { "paused" }
                }
            }
            td { a href=(state.link(&jobs_path(&entry.queue, "ready"))) { (entry.queue) } }
            td { code { (entry.schedule) } div.muted { (entry.time_zone) } }
            td { (Visible(&entry.job_type)) }
            td.nowrap title=(time(entry.next_run)) {
                @if entry.paused_at.is_some() { span.muted { "paused" } } @else { (ago(entry.next_run)) }
            }
            td.nowrap title=(time(entry.last_enqueued_tick)) {
                (ago(entry.last_enqueued_tick))
                @if let Some(id) = &entry.last_enqueued_id { div.muted { code title=(id) { (id_tail(id)) } } }
            }
            td {
                @if let Some(result) = &entry.last_result {
                    @let outcome = variant_name(&result.outcome);
                    a href=(job_link(&result.job_id)) title=(result.job_id) {
                        span class={ "badge " (outcome) } { (outcome) }
                    }
                    @let finished = millis_to_datetime(result.finished_at_ms);
                    " " span.muted title=(time(finished)) { (ago(finished)) }
                    @if let Some(error) = &result.error { div.error { (Visible(&short(error, 160))) } }
                } @else {
                    span.muted { "no run finished yet" }
                }
            }
            td.num { (count(entry.skipped)) }
            td.actions {
                @if entry.paused_at.is_some() {
                    (action_button(state, who, &action("resume"), "Resume", "secondary cron-resume", None))
                } @else {
                    (action_button(state, who, &action("pause"), "Pause", "secondary cron-pause", None))
                }
                (action_button(state, who, &action("run"), "Run now", "cron-run", None))
                (confirm_button(state, who, &action("remove"), "Remove", "danger cron-remove", None, Some("Remove this cron entry? A process that still registers it adds it back.")))
            }
        }
    }
}
