//! One job: everything stored about it, its status (progress, result),
//! its chain, its error history, its logs per attempt and (for operators)
//! its actions.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use jobqueue_core::admin::{JobDependencies, millis_to_datetime};
use jobqueue_core::{JobInfo, JobState, JobStatus, JobStatusState};
use maud::{Markup, html};
use uuid::Uuid;

use crate::error::ApiError;
use crate::format::{pretty_payload, time, variant_name};
use crate::params::{self, Params};
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::flash::flash;
use crate::ui::layout::{Nav, action_button, confirm_button, page};
use crate::ui::links::{batch_path, job_action_link, job_path, search_path, url, workflow_path};
use crate::ui::visible::Visible;

/// `GET /queues/{queue}/job/{id}`: the job's record when it is in a set
/// indexed by id (scheduled, retry, dead, waiting, cancelled, expired, or
/// keyed) or leased by a worker (running: type and payload shown too),
/// else its status alone when it is tracked.
pub(crate) async fn job(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let id = params::job_id(&id)?;
    let name = state.known_queue(&name).await?;
    let params = Params::parse(query.as_deref());
    let status = state.admin.store().job_status_in(&name, id).await?;
    let body = match state.admin.job(&name, id).await? {
        Some(mut job) => {
            state.reveal_payload(&who, &mut job);
            let deps = state.admin.dependencies(&job).await?;
            let page = JobPage {
                state: &state,
                who: &who,
                queue: &name,
            };
            page.record(&job, status.as_ref(), &deps)
        }
        // Ready and finished jobs are not indexed by id, but a tracked one
        // still has its status.
        None => status_only(
            &state,
            &who,
            &name,
            id,
            &status.ok_or_else(|| ApiError::job_not_found(id))?,
        ),
    };
    let durable = state.admin.durable_state(&name, id).await?;
    let logs = state.admin.job_logs(&name, id).await?;
    let events_on = state
        .admin
        .watch_settings(&name)
        .await?
        .events_cap
        .is_some();
    let body = html! {
        (body)
        (crate::ui::pages::job_durable::durable_section(&durable))
        (crate::ui::pages::job_logs::logs_section(&logs))
        div data-job=(id) { (crate::ui::pages::history::live_feed(&name, events_on)) }
    };
    Ok(Html(
        page(
            &state,
            &who,
            Nav::Queues,
            "Job",
            flash(&params).as_deref(),
            body,
        )
        .into_string(),
    ))
}

/// The page of a job known only by its status.
fn status_only(
    state: &AppState,
    who: &Principal,
    queue: &str,
    id: Uuid,
    status: &JobStatus,
) -> Markup {
    html! {
        h1 { "Job " code #job-id { (id) } }
        p.muted { "Its record is not in a scheduled, retry, dead, waiting, cancelled or expired set nor leased by a worker (it is ready or finished); its status is kept for a while after each update." }
        @if status.state == JobStatusState::Running {
            div.bulk-bar {
                (confirm_button(state, who, &job_action_link(state, queue, id, "cancel"), "Cancel", "danger", Some("cancel-job"), Some("Cancel this job? A running job is told to stop.")))
            }
        }
        (status_section(status))
    }
}

/// What the parts of a job's page need.
struct JobPage<'a> {
    state: &'a AppState,
    who: &'a Principal,
    queue: &'a str,
}

impl JobPage<'_> {
    /// The page of a job with a record: actions, facts, status, chain,
    /// payload and errors.
    fn record(&self, job: &JobInfo, status: Option<&JobStatus>, deps: &JobDependencies) -> Markup {
        html! {
            h1 { "Job " code #job-id { (job.id) } }
            @if let Some(workflow) = &job.workflow {
                p #job-workflow {
                    "Node " strong { (Visible(&workflow.node)) } " of "
                    a href=(self.state.link(&workflow_path(workflow.id))) { "workflow " code { (workflow.id) } }
                }
            }
            (self.actions(job))
            (self.facts(job))
            @if let Some(status) = status { (status_section(status)) }
            @if let Some(err) = &job.decode_error {
                h2 { "Record could not be decoded" }
                pre.error { (Visible(err)) }
            }
            @if !deps.is_empty() { (self.chain(deps)) }
            h2 { "Payload" }
            @if job.payload_redacted {
                p.payload-redacted #payload { (Visible(&job.payload)) }
            } @else {
                pre.payload #payload { (Visible(&pretty_payload(&job.payload))) }
            }
            (errors_section(job))
        }
    }

    /// Retry or run now, delete and cancel, as the job's state allows, and
    /// the way back to its list.
    fn actions(&self, job: &JobInfo) -> Markup {
        let (state, who) = (self.state, self.who);
        // A ready job found by id waits in its flow key's list: the keyed tab.
        let keyed = job.state == JobState::Ready && job.flow_key.is_some();
        let list_name = if keyed { "keyed" } else { job.state.as_str() };
        let action = |what: &str| job_action_link(state, self.queue, job.id, what);
        html! {
            div.bulk-bar {
                @if matches!(job.state, JobState::Scheduled | JobState::Retry | JobState::Dead) {
                    @let retry_label = if job.state == JobState::Scheduled { "Run now" } else { "Retry now" };
                    (action_button(state, who, &action("retry"), retry_label, "", Some("retry-job")))
                    (action_button(state, who, &action("delete"), "Delete", "danger", Some("delete-job")))
                }
                @if keyed {
                    (action_button(state, who, &action("delete"), "Delete", "danger", Some("delete-job")))
                }
                @if keyed || matches!(job.state, JobState::Scheduled | JobState::Retry | JobState::Waiting) {
                    (confirm_button(state, who, &action("cancel"), "Cancel", "danger", Some("cancel-job"), Some("Cancel this job? It will not run.")))
                }
                @if job.state == JobState::Active {
                    (confirm_button(state, who, &action("cancel"), "Cancel", "danger", Some("cancel-job"), Some("Cancel this job? A running job is told to stop.")))
                }
                a.button.secondary href=(state.link(&format!("/queues/{}/jobs/{list_name}", url(self.queue)))) { "Back to " (list_name) " jobs" }
            }
        }
    }

    /// Type, queue, flow key, state, attempts, priority and times.
    fn facts(&self, job: &JobInfo) -> Markup {
        let state_name = job.state.as_str();
        let at_label = match job.state {
            JobState::Scheduled => "Runs at",
            JobState::Retry => "Retries at",
            JobState::Dead => "Died at",
            JobState::Cancelled => "Cancelled at",
            JobState::Expired => "Expired at",
            JobState::Waiting => "Waiting since",
            _ => "At",
        };
        let started = job.errors.last().map(|e| e.at).and_then(millis_to_datetime);
        html! {
            dl.facts {
                dt { "Type" } dd { (Visible(job.job_type.as_deref().unwrap_or("(undecodable)"))) }
                dt { "Queue" } dd { code { (job.queue) } }
                @if let Some(key) = &job.flow_key {
                    dt { "Flow key" }
                    dd { code #job-flow-key { (Visible(key)) } " · " a href=(self.state.link(&format!("/queues/{}/keys", url(self.queue)))) { "flow keys" } }
                }
                @if !job.tags.is_empty() {
                    dt { "Tags" }
                    dd #job-tags {
                        @for tag in &job.tags {
                            a.tag href=(self.state.link(&search_path(self.queue, "tag", tag))) { code { (Visible(tag)) } } " "
                        }
                    }
                }
                @if let Some(batch) = job.batch {
                    dt { "Batch" }
                    dd { a #job-batch href=(self.state.link(&batch_path(self.queue, batch))) { code { (batch) } } }
                }
                dt { "State" } dd { span class={ "badge " (state_name) } #job-state { (state_name) } }
                dt { "Attempts" } dd { (job.attempt) @if let Some(max) = job.max_attempts { " of " (max) } }
                dt { "Priority" } dd { (job.priority) }
                dt { "Enqueued" } dd { (time(job.enqueued_at)) }
                dt { (at_label) } dd { (time(job.at)) }
                dt { "Last failure" } dd { (time(started)) }
            }
        }
    }

    /// The job's parents (and what happens if one dies) and children.
    fn chain(&self, deps: &JobDependencies) -> Markup {
        let job_link = |queue: &str, id: Uuid| self.state.link(&job_path(queue, id));
        html! {
            h2 { "Chain" }
            dl.facts #job-chain {
                @if !deps.parents.is_empty() {
                    dt { "Parents (" (deps.parents_succeeded) " of " (deps.parents.len()) " succeeded)" }
                    dd { @for p in &deps.parents {
                        a href=(job_link(&p.queue, p.id)) { code { (p.id) } } " " (format!("{:?}", p.state).to_lowercase())
                        @if let Some(policy) = p.policy { span.muted { " · if it dies: " (policy.as_str()) } }
                        br;
                    } }
                    @if deps.parents.iter().all(|p| p.policy.is_none()) {
                        dt { "If a parent dies" } dd { (deps.on_parent_failure.unwrap_or_default().as_str()) }
                    }
                }
                @if !deps.children.is_empty() {
                    dt { "Children" }
                    dd { @for c in &deps.children {
                        a href=(job_link(&c.queue, c.id)) { code { (c.id) } } br;
                    } }
                }
            }
        }
    }
}

/// The job's failures, newest first.
fn errors_section(job: &JobInfo) -> Markup {
    html! {
        h2 { "Errors (" (job.errors.len()) ")" }
        @if job.errors.is_empty() {
            p.empty { "No failures recorded." }
        } @else {
            ol.errors {
                @for e in job.errors.iter().rev() {
                    li {
                        div.muted { "Attempt " (e.attempt) " · " (format!("{:?}", e.kind).to_lowercase()) " · " (time(millis_to_datetime(e.at))) }
                        pre.error { (Visible(&e.message)) }
                    }
                }
            }
        }
    }
}

/// The job's status hash: state, progress, result, error.
fn status_section(status: &JobStatus) -> Markup {
    let state = variant_name(&status.state);
    html! {
        h2 { "Status" }
        dl.facts #job-status {
            dt { "Status" } dd { span class={ "badge " (state) } #status-state { (state) } }
            @if let Some(progress) = &status.progress {
                dt { "Progress" }
                dd #job-progress {
                    progress max="100" value=(progress.percent) { (progress.percent) "%" }
                    " " (progress.percent) "%"
                    @if !progress.message.is_empty() { " · " span #progress-message { (Visible(&progress.message)) } }
                    @if progress.stale { " " span.muted #progress-stale { "(from an interrupted run)" } }
                }
            }
            @if let Some(error) = &status.error { dt { "Error" } dd { pre.error { (Visible(error)) } } }
            dt { "Updated" } dd { (time(status.updated_at)) }
        }
        @if let Some(result) = &status.result {
            h2 { "Result" }
            pre.payload #job-result { (Visible(&serde_json::to_string_pretty(result).unwrap_or_default())) }
        }
    }
}
