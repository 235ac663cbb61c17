//! A queue's jobs in one state: the queue's header and state tabs, the
//! filter, one page of jobs and, for operators, the bulk actions on them.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use jobqueue_core::{BrowseState, JobFilter, JobInfo, JobPage, JobState, QueueInfo};
use maud::{Markup, html};

use crate::actions::limits::LimitsView;
use crate::config::Role;
use crate::error::ApiError;
use crate::format::{ago, count, id_tail, pretty_payload, short, time};
use crate::params::{self, Params};
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::flash::flash;
use crate::ui::layout::{Nav, csrf_field, page};
use crate::ui::links::{batches_path, job_action_link, job_path, jobs_path, url};
use crate::ui::visible::Visible;

/// What the parts of a job list show: one page of `queue`'s jobs in `list`.
struct JobList<'a> {
    state: &'a AppState,
    who: &'a Principal,
    queue: &'a str,
    list: BrowseState,
    info: QueueInfo,
    filter: JobFilter,
    page: JobPage,
    /// The list's own link.
    base: String,
}

/// `GET /queues/{queue}/jobs/{state}` (`?type=`, `?error=`,
/// `?fingerprint=` filter; `?cursor=`, `?limit=` page).
pub(crate) async fn jobs(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, job_state)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let job_state = params::state(&job_state)?;
    let name = state.known_queue(&name).await?;
    let params = Params::parse(query.as_deref());
    let filter = params.filter()?;
    let cursor = params.number("cursor", 0)?;
    let limit = params.limit()?;
    let info = state.admin.queue(&name).await?;
    let limits = LimitsView::from(state.admin.queue_limits(&name).await?);
    let events_on = state
        .admin
        .watch_settings(&name)
        .await?
        .events_cap
        .is_some();
    let page_of_jobs = state
        .admin
        .browse(&name, job_state, &filter, cursor, limit)
        .await?;
    let list = JobList {
        base: state.link(&jobs_path(&name, job_state.as_str())),
        state: &state,
        who: &who,
        queue: &name,
        list: job_state,
        info,
        filter,
        page: page_of_jobs,
    };
    let body = html! {
        (list.header(&limits))
        (list.filter_form())
        (list.bulk_form())
        (list.pager(cursor, limit))
        @if events_on {
            div data-list=(job_state.as_str()) { (crate::ui::pages::history::live_feed(&name, true)) }
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

impl JobList<'_> {
    fn operator(&self) -> bool {
        self.who.role == Role::Operator
    }

    /// The queue's name and flags, its flow limits, and a tab per state.
    fn header(&self, limits: &LimitsView) -> Markup {
        let (state, queue, info) = (self.state, self.queue, &self.info);
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
            BrowseState::Sleeping => info.sleeping,
            BrowseState::WaitingForSignal => info.waiting_for_signal,
        };
        html! {
            h1 { "Queue " code { (queue) } @if info.paused { " " span.badge.warn { "paused" } } }
            p.muted #queue-limits {
                "Flow limits: " (limits.describe()) " · "
                a href=(state.link(&format!("/queues/{}/limits", url(queue)))) { @if self.operator() { "change" } @else { "details" } }
                " · "
                a #history-link href=(state.link(&format!("/queues/{}/history", url(queue)))) { "history and events" }
                " · " a #queue-keys href=(state.link(&format!("/queues/{}/keys", url(queue)))) { "flow keys" }
                @if info.keyed > 0 { " (" (info.keyed) " keyed jobs waiting)" }
                " · " a #queue-batches href=(state.link(&batches_path(queue))) { "batches" }
                " · " a #queue-search href=(state.link(&format!("/queues/{}/search", url(queue)))) { "search" }
            }
            nav.tabs {
                @for s in BrowseState::ALL {
                    a href=(state.link(&jobs_path(queue, s.as_str())))
                      class={ @if s == self.list { "current" } } {
                        (s.as_str()) " " span.count { (count(tab_count(s))) }
                    }
                }
                @if self.list == BrowseState::Dead {
                    a href=(state.link(&format!("/queues/{}/groups", url(queue)))) { "grouped by error" }
                }
            }
        }
    }

    /// The filter form, what the page shows of the list, and (for keyed
    /// jobs) what the keyed list covers.
    fn filter_form(&self) -> Markup {
        let (filter, jobs, base) = (&self.filter, &self.page, &self.base);
        html! {
            form.filters method="get" action=(base) {
                label { "Job type " input type="text" name="type" value=[filter.job_type.as_deref()] placeholder="any"; }
                label { "Error contains " input type="text" name="error" value=[filter.error_contains.as_deref()] placeholder="any"; }
                @if let Some(fp) = &filter.fingerprint { input type="hidden" name="fingerprint" value=(fp); }
                button.secondary type="submit" { "Filter" }
                @if !filter.is_empty() { a href=(base) { "clear" } }
            }
            p.muted {
                "Showing " (jobs.jobs.len()) " of " (count(jobs.total)) " " (self.list.as_str()) " jobs"
                @if !filter.is_empty() { " matching the filter (looked at " (count(jobs.scanned)) " from position " (jobs.cursor) ")" }
                "."
            }
            @if self.list == BrowseState::Keyed {
                p.muted #keyed-note {
                    "Ready jobs held in their flow keys' lists, key by key (keys running jobs first, then in the order they will be served), "
                    "each key's jobs in the order they will run; "
                    a href=(self.state.link(&format!("/queues/{}/keys", url(self.queue)))) { "flow keys" } " shows each key's counts and limits."
                    @if filter.is_empty() && self.info.keyed > jobs.total {
                        " This list covers the first 1,000 keys with work (" (count(jobs.total)) " of " (count(self.info.keyed)) " keyed jobs)."
                    }
                }
            }
        }
    }

    /// The jobs table inside the bulk form (with its buttons for operators,
    /// where the list's jobs can be retried or deleted).
    fn bulk_form(&self) -> Markup {
        let (filter, list) = (&self.filter, self.list);
        let keyed = list == BrowseState::Keyed;
        let actionable = (list.set().is_some() || keyed) && self.operator();
        let can_cancel =
            self.operator() && matches!(list, BrowseState::Ready | BrowseState::Active);
        html! {
            form #bulk method="post" action=(format!("{}/bulk", self.base)) {
                (csrf_field(self.state, self.who))
                @if actionable {
                    div.bulk-bar {
                        // Keyed jobs are ready already: they can only be deleted.
                        @if !keyed {
                            button type="submit" name="action" value="retry" {
                                @if list == BrowseState::Scheduled { "Run now" } @else { "Retry now" }
                            }
                        }
                        button.danger type="submit" name="action" value="delete" { "Delete" }
                        label.all-matching {
                            input type="checkbox" name="all_matching" value="1";
                            " all " @if filter.is_empty() { (count(self.page.total)) } @else { "matching" } " jobs, not just the selected"
                        }
                        @if let Some(t) = &filter.job_type { input type="hidden" name="type" value=(t); }
                        @if let Some(e) = &filter.error_contains { input type="hidden" name="error" value=(e); }
                        @if let Some(fp) = &filter.fingerprint { input type="hidden" name="fingerprint" value=(fp); }
                    }
                }
                (jobs_table(self.state, &self.page.jobs, actionable, can_cancel))
            }
        }
    }

    /// Links to the first and the next page, keeping the filter.
    fn pager(&self, cursor: u64, limit: usize) -> Markup {
        let (base, filter_query) = (&self.base, filter_query(&self.filter));
        html! {
            nav.pager {
                @if cursor > 0 { a.button.secondary href=(format!("{base}?limit={limit}{filter_query}")) { "« First" } }
                @if let Some(next) = self.page.next_cursor {
                    a.button.secondary #next-page href=(format!("{base}?cursor={next}&limit={limit}{filter_query}")) { "Next »" }
                }
            }
        }
    }
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
                                        a.job-link href=(state.link(&job_path(&job.queue, job.id))) title=(job.id) { code { (id_tail(&job.id)) } }
                                    }
                                }
                                @if with_keys { td.nowrap { @if let Some(key) = &job.flow_key { code.flow-key { (Visible(key)) } } } }
                                td { (Visible(job.job_type.as_deref().unwrap_or("(undecodable)"))) }
                                td.num { (job.attempt) }
                                td.nowrap title=(time(job.at.or(job.enqueued_at))) { (ago(job.at.or(job.enqueued_at))) }
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
