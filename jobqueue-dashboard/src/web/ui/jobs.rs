//! Job lists per state (paginated, filtered, with bulk actions) and dead
//! jobs grouped by error fingerprint.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use jobqueue_core::{BrowseState, JobFilter, JobInfo, JobState};
use maud::{Markup, html};

use super::super::api::known_queue;
use super::super::auth::Principal;
use super::super::config::Role;
use super::super::error::ApiError;
use super::super::flow_actions::LimitsView;
use super::super::params::{self, Params};
use super::super::state::AppState;
use super::job::job_action_link;
use super::layout::{Nav, csrf_field, page};
use super::queues::url;
use super::visible::Visible;
use crate::format::{ago, count, id_tail, pretty_payload, short};

pub(crate) async fn jobs(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, job_state)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let job_state = params::state(&job_state)?;
    let name = known_queue(&state, &name).await?;
    let params = Params::parse(query.as_deref());
    let filter = params.filter()?;
    let cursor = params.number("cursor", 0)?;
    let limit = params.limit()?;
    let info = state.admin.queue(&name).await?;
    let limits = LimitsView::from(state.admin.queue_limits(&name).await?);
    let page_of_jobs = state
        .admin
        .browse(&name, job_state, &filter, cursor, limit)
        .await?;
    let base = state.link(&format!(
        "/queues/{}/jobs/{}",
        url(&name),
        job_state.as_str()
    ));
    let keyed = job_state == BrowseState::Keyed;
    let actionable = (job_state.set().is_some() || keyed) && who.role == Role::Operator;
    let filter_query = filter_query(&filter);
    let tab_count = |s: BrowseState| match s {
        BrowseState::Ready => info.ready,
        BrowseState::Keyed => info.keyed,
        BrowseState::Scheduled => info.scheduled,
        BrowseState::Retry => info.retry,
        BrowseState::Dead => info.dead,
        BrowseState::Active => info.active,
        BrowseState::Waiting => info.waiting,
        BrowseState::Cancelled => info.cancelled,
        BrowseState::Expired => info.expired,
    };
    let can_cancel =
        who.role == Role::Operator && matches!(job_state, BrowseState::Ready | BrowseState::Active);
    let body = html! {
        h1 { "Queue " code { (name) } @if info.paused { " " span.badge.warn { "paused" } } }
        p.muted #queue-limits {
            "Flow limits: " (limits.describe()) " · "
            a href=(state.link(&format!("/queues/{}/limits", url(&name)))) { @if who.role == Role::Operator { "change" } @else { "details" } }
            " · " a #queue-keys href=(state.link(&format!("/queues/{}/keys", url(&name)))) { "flow keys" }
            @if info.keyed > 0 { " (" (info.keyed) " keyed jobs waiting)" }
        }
        nav.tabs {
            @for s in BrowseState::ALL {
                a href=(state.link(&format!("/queues/{}/jobs/{}", url(&name), s.as_str())))
                  class={ @if s == job_state { "current" } } {
                    (s.as_str()) " " span.count { (count(tab_count(s))) }
                }
            }
            @if job_state == BrowseState::Dead {
                a href=(state.link(&format!("/queues/{}/groups", url(&name)))) { "grouped by error" }
            }
        }
        form.filters method="get" action=(base) {
            label { "Job type " input type="text" name="type" value=[filter.job_type.as_deref()] placeholder="any"; }
            label { "Error contains " input type="text" name="error" value=[filter.error_contains.as_deref()] placeholder="any"; }
            @if let Some(fp) = &filter.fingerprint { input type="hidden" name="fingerprint" value=(fp); }
            button.secondary type="submit" { "Filter" }
            @if !filter.is_empty() { a href=(base) { "clear" } }
        }
        p.muted {
            "Showing " (page_of_jobs.jobs.len()) " of " (count(page_of_jobs.total)) " " (job_state.as_str()) " jobs"
            @if !filter.is_empty() { " matching the filter (looked at " (count(page_of_jobs.scanned)) " from position " (page_of_jobs.cursor) ")" }
            "."
        }
        @if job_state == BrowseState::Keyed {
            p.muted #keyed-note {
                "Ready jobs held in their flow keys' lists, key by key (keys running jobs first, then in the order they will be served), "
                "each key's jobs in the order they will run; "
                a href=(state.link(&format!("/queues/{}/keys", url(&name)))) { "flow keys" } " shows each key's counts and limits."
                @if filter.is_empty() && info.keyed > page_of_jobs.total {
                    " This list covers the first 1,000 keys with work (" (count(page_of_jobs.total)) " of " (count(info.keyed)) " keyed jobs)."
                }
            }
        }
        form #bulk method="post" action=(format!("{base}/bulk")) {
            (csrf_field(&state, &who))
            @if actionable {
                div.bulk-bar {
                    // Keyed jobs are ready already: they can only be deleted.
                    @if !keyed {
                        button type="submit" name="action" value="retry" {
                            @if job_state == BrowseState::Scheduled { "Run now" } @else { "Retry now" }
                        }
                    }
                    button.danger type="submit" name="action" value="delete" { "Delete" }
                    label.all-matching {
                        input type="checkbox" name="all_matching" value="1";
                        " all " @if filter.is_empty() { (count(page_of_jobs.total)) } @else { "matching" } " jobs, not just the selected"
                    }
                    @if let Some(t) = &filter.job_type { input type="hidden" name="type" value=(t); }
                    @if let Some(e) = &filter.error_contains { input type="hidden" name="error" value=(e); }
                    @if let Some(fp) = &filter.fingerprint { input type="hidden" name="fingerprint" value=(fp); }
                }
            }
            (jobs_table(&state, &page_of_jobs.jobs, actionable, can_cancel))
        }
        nav.pager {
            @if cursor > 0 { a.button.secondary href=(format!("{base}?limit={limit}{filter_query}")) { "« First" } }
            @if let Some(next) = page_of_jobs.next_cursor {
                a.button.secondary #next-page href=(format!("{base}?cursor={next}&limit={limit}{filter_query}")) { "Next »" }
            }
        }
    };
    let title = format!("{name} · {}", job_state.as_str());
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

/// The table of one page of jobs, with a Key column when a job on it
/// has a flow key. With `can_cancel`, ready and running jobs get a cancel
/// button, which submits the surrounding form (for its CSRF field) to the
/// job's cancel action.
fn jobs_table(state: &AppState, jobs: &[JobInfo], selectable: bool, can_cancel: bool) -> Markup {
    let with_keys = jobs.iter().any(|job| job.flow_key.is_some());
    html! {
        @if jobs.is_empty() {
            p.empty { "No jobs here." }
        } @else {
            div.table-wrap {
                table #jobs-table {
                    thead { tr {
                        @if selectable { th { input type="checkbox" #select-all aria-label="select all on this page"; } }
                        th { "Job" } @if with_keys { th { "Key" } } th { "Type" } th.num { "Attempt" } th { "When" } th { "Last error" } th { "Payload" }
                    } }
                    tbody {
                        @for job in jobs {
                            tr {
                                @if selectable { td { input type="checkbox" name="ids" value=(job.id) aria-label="select"; } }
                                td.nowrap {
                                    @if !has_page(job) {
                                        // Ready and running jobs are not indexed by id, so
                                        // their details unfold here instead of on a page.
                                        details.job-inline {
                                            summary title=(job.id) { code { (id_tail(&job.id)) } }
                                            code { (job.id) }
                                            pre.payload { (Visible(&pretty_payload(&job.payload))) }
                                            @if can_cancel {
                                                button.danger.cancel-job type="submit" data-confirm="Cancel this job?"
                                                    formaction=(job_action_link(state, &job.queue, job.id, "cancel")) { "Cancel" }
                                            }
                                        }
                                    } @else {
                                        a.job-link href=(state.link(&format!("/queues/{}/job/{}", url(&job.queue), job.id))) title=(job.id) { code { (id_tail(&job.id)) } }
                                    }
                                }
                                @if with_keys { td.nowrap { @if let Some(key) = &job.flow_key { code.flow-key { (Visible(key)) } } } }
                                td { (Visible(job.job_type.as_deref().unwrap_or("(undecodable)"))) }
                                td.num { (job.attempt) }
                                td.nowrap title=(crate::format::time(job.at.or(job.enqueued_at))) { (ago(job.at.or(job.enqueued_at))) }
                                td.error { (Visible(&job.errors.last().map(|e| short(&e.message, 120)).or_else(|| job.decode_error.clone()).unwrap_or_default())) }
                                td { code.payload { (Visible(&short(&job.payload, 80))) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// True when the job page finds the job by id: every state but ready and
/// running, and ready jobs waiting in their flow key's list.
fn has_page(job: &JobInfo) -> bool {
    match job.state {
        JobState::Ready => job.flow_key.is_some(),
        JobState::Active => false,
        _ => true,
    }
}

/// Dead jobs of a queue grouped by error fingerprint.
pub(crate) async fn groups(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let name = known_queue(&state, &name).await?;
    let params = Params::parse(query.as_deref());
    let groups = state.admin.dead_groups(&name).await?;
    let dead_link = state.link(&format!("/queues/{}/jobs/dead", url(&name)));
    let body = html! {
        h1 { "Dead jobs of " code { (name) } ", grouped by error" }
        p.muted {
            @if groups.exact {
                "All " (count(groups.total)) " dead jobs, grouped by job type and normalised error message."
            } @else {
                "Grouped over the newest " (count(groups.sampled)) " of " (count(groups.total))
                " dead jobs; counts marked ≈ are scaled to the whole set. Retrying or deleting a group acts on every matching dead job."
            }
        }
        @if groups.groups.is_empty() {
            p.empty { "No dead jobs." }
        } @else {
            div.table-wrap { table #groups-table {
                thead { tr { th.num { "Jobs" } th { "Type" } th { "Error" } th { "Newest" } th { "" } } }
                tbody {
                    @for g in &groups.groups {
                        tr {
                            td.num { @if !groups.exact { "≈" } (count(g.estimated_count)) }
                            td { (Visible(&g.job_type)) }
                            td.error {
                                a href=(format!("{dead_link}?fingerprint={}", g.fingerprint)) { (Visible(&short(&g.message, 200))) }
                            }
                            td { (ago(g.newest_at)) }
                            td.actions {
                                @if who.role == Role::Operator {
                                    form.inline method="post" action=(state.link(&format!("/queues/{}/groups/{}/retry", url(&name), g.fingerprint))) {
                                        (csrf_field(&state, &who)) button type="submit" { "Retry this group" }
                                    }
                                    form.inline method="post" action=(state.link(&format!("/queues/{}/groups/{}/delete", url(&name), g.fingerprint))) {
                                        (csrf_field(&state, &who)) button.danger type="submit" { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
    };
    Ok(Html(
        page(
            &state,
            &who,
            Nav::Queues,
            "Error groups",
            flash(&params).as_deref(),
            body,
        )
        .into_string(),
    ))
}

/// `&type=..&error=..&fingerprint=..` for links that keep the filter.
fn filter_query(filter: &JobFilter) -> String {
    let mut out = String::new();
    for (name, value) in [
        ("type", &filter.job_type),
        ("error", &filter.error_contains),
        ("fingerprint", &filter.fingerprint),
    ] {
        if let Some(value) = value {
            out.push('&');
            out.push_str(name);
            out.push('=');
            out.extend(form_urlencoded::byte_serialize(value.as_bytes()));
        }
    }
    out
}

/// The result message a form action redirected with (`?done=retry&n=3`).
pub(crate) fn flash(params: &Params) -> Option<String> {
    let action = params.get("done")?;
    let n = params.number("n", 0).unwrap_or(0);
    Some(match action {
        "retry" => format!("{} job(s) moved to ready.", count(n)),
        "run_now" => format!("{} job(s) will run now.", count(n)),
        "delete" => format!("{} job(s) deleted.", count(n)),
        "purge" => format!("{} ready job(s) purged.", count(n)),
        "pause" => "Queue paused.".to_owned(),
        "resume" => "Queue resumed.".to_owned(),
        "cancel" => "Job cancelled: it will not run (a running job is told to stop).".to_owned(),
        "cron_pause" => "Cron entry paused.".to_owned(),
        "cron_resume" => "Cron entry resumed.".to_owned(),
        "cron_run" => "Cron entry enqueued to run now.".to_owned(),
        "cron_remove" => "Cron entry removed.".to_owned(),
        "set_limits" => "Flow limits set.".to_owned(),
        "clear_limits" => "Flow limits cleared.".to_owned(),
        "set_key_limits" => "Key class limits set.".to_owned(),
        "clear_key_limits" => {
            "Key class limits cleared: its keys run one job at a time again.".to_owned()
        }
        _ => return None,
    })
}
