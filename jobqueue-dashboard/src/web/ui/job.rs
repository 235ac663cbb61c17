//! One job: everything stored about it, its status (progress, result),
//! its error history and actions.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use jobqueue_core::{JobState, JobStatus, JobStatusState};
use maud::{Markup, html};

use super::super::api::{job_not_found, known_queue};
use super::super::auth::Principal;
use super::super::error::ApiError;
use super::super::params::{self, Params};
use super::super::state::AppState;
use super::jobs::flash;
use super::layout::{Nav, action_button, confirm_button, page};
use super::queues::url;
use super::visible::Visible;
use crate::format::{pretty_payload, time};

pub(crate) async fn job(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let id = params::job_id(&id)?;
    let name = known_queue(&state, &name).await?;
    let params = Params::parse(query.as_deref());
    let flash = flash(&params);
    let status = state.admin.store().job_status(id).await?;
    let Some(job) = state.admin.job(&name, id).await? else {
        // Ready, running and finished jobs are not indexed by id, but a
        // tracked one still has its status.
        let status = status.ok_or_else(|| job_not_found(id))?;
        let body = html! {
            h1 { "Job " code #job-id { (id) } }
            p.muted { "Its record is not in a scheduled, retry, dead, waiting, cancelled or expired set (it is ready, running or finished); its status is kept for a while after each update." }
            @if status.state == JobStatusState::Running {
                div.bulk-bar {
                    (confirm_button(&state, &who, &job_action_link(&state, &name, id, "cancel"), "Cancel", "danger", Some("cancel-job"), Some("Cancel this job? A running job is told to stop.")))
                }
            }
            (status_section(&status))
        };
        return Ok(Html(
            page(&state, &who, Nav::Queues, "Job", flash.as_deref(), body).into_string(),
        ));
    };
    let state_name = job.state.as_str();
    // A ready job found by id waits in its flow key's list: the keyed tab.
    let keyed = job.state == JobState::Ready && job.flow_key.is_some();
    let list_name = if keyed { "keyed" } else { state_name };
    let at_label = match job.state {
        JobState::Scheduled => "Runs at",
        JobState::Retry => "Retries at",
        JobState::Dead => "Died at",
        JobState::Cancelled => "Cancelled at",
        JobState::Expired => "Expired at",
        JobState::Waiting => "Waiting since",
        _ => "At",
    };
    let action = |what: &str| job_action_link(&state, &name, job.id, what);
    let started = job
        .errors
        .last()
        .map(|e| e.at)
        .and_then(jobqueue_core::admin::millis_to_datetime);
    let deps = state.admin.dependencies(&job).await?;
    let job_link =
        |queue: &str, id: &uuid::Uuid| state.link(&format!("/queues/{}/job/{id}", url(queue)));
    let body = html! {
        h1 { "Job " code #job-id { (job.id) } }
        div.bulk-bar {
            @if matches!(job.state, JobState::Scheduled | JobState::Retry | JobState::Dead) {
                @let retry_label = if job.state == JobState::Scheduled { "Run now" } else { "Retry now" };
                (action_button(&state, &who, &action("retry"), retry_label, "", Some("retry-job")))
                (action_button(&state, &who, &action("delete"), "Delete", "danger", Some("delete-job")))
            }
            @if keyed {
                (action_button(&state, &who, &action("delete"), "Delete", "danger", Some("delete-job")))
            }
            @if keyed || matches!(job.state, JobState::Scheduled | JobState::Retry | JobState::Waiting) {
                (confirm_button(&state, &who, &action("cancel"), "Cancel", "danger", Some("cancel-job"), Some("Cancel this job? It will not run.")))
            }
            a.button.secondary href=(state.link(&format!("/queues/{}/jobs/{list_name}", url(&name)))) { "Back to " (list_name) " jobs" }
        }
        dl.facts {
            dt { "Type" } dd { (Visible(job.job_type.as_deref().unwrap_or("(undecodable)"))) }
            dt { "Queue" } dd { code { (job.queue) } }
            @if let Some(key) = &job.flow_key {
                dt { "Flow key" }
                dd { code #job-flow-key { (Visible(key)) } " · " a href=(state.link(&format!("/queues/{}/keys", url(&name)))) { "flow keys" } }
            }
            dt { "State" } dd { span class={ "badge " (state_name) } #job-state { (state_name) } }
            dt { "Attempts" } dd { (job.attempt) @if let Some(max) = job.max_attempts { " of " (max) } }
            dt { "Priority" } dd { (job.priority) }
            dt { "Enqueued" } dd { (time(job.enqueued_at)) }
            dt { (at_label) } dd { (time(job.at)) }
            dt { "Last failure" } dd { (time(started)) }
        }
        @if let Some(status) = &status { (status_section(status)) }
        @if let Some(err) = &job.decode_error {
            h2 { "Record could not be decoded" }
            pre.error { (Visible(err)) }
        }
        @if !deps.is_empty() {
            h2 { "Chain" }
            dl.facts #job-chain {
                @if !deps.parents.is_empty() {
                    dt { "Parents (" (deps.parents_succeeded) " of " (deps.parents.len()) " succeeded)" }
                    dd { @for p in &deps.parents {
                        a href=(job_link(&p.queue, &p.id)) { code { (p.id) } } " " (format!("{:?}", p.state).to_lowercase()) br;
                    } }
                    dt { "If a parent dies" } dd { (deps.on_parent_failure.unwrap_or_default().as_str()) }
                }
                @if !deps.children.is_empty() {
                    dt { "Children" }
                    dd { @for c in &deps.children {
                        a href=(job_link(&c.queue, &c.id)) { code { (c.id) } } br;
                    } }
                }
            }
        }
        h2 { "Payload" }
        pre.payload #payload { (Visible(&pretty_payload(&job.payload))) }
        h2 { "Errors (" (job.errors.len()) ")" }
        @if job.errors.is_empty() {
            p.empty { "No failures recorded." }
        } @else {
            ol.errors {
                @for e in job.errors.iter().rev() {
                    li {
                        div.muted { "Attempt " (e.attempt) " · " (format!("{:?}", e.kind).to_lowercase()) " · " (time(jobqueue_core::admin::millis_to_datetime(e.at))) }
                        pre.error { (Visible(&e.message)) }
                    }
                }
            }
        }
    };
    Ok(Html(
        page(&state, &who, Nav::Queues, "Job", flash.as_deref(), body).into_string(),
    ))
}

/// Where the job page's action `what` posts to.
pub(super) fn job_action_link(state: &AppState, queue: &str, id: uuid::Uuid, what: &str) -> String {
    state.link(&format!("/queues/{}/job/{id}/{what}", url(queue)))
}

/// The job's status hash: state, progress, result, error.
fn status_section(status: &JobStatus) -> Markup {
    let state = crate::format::variant_name(&status.state);
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
