//! One job: everything stored about it, its error history and actions.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Html;
use jobqueue_core::JobState;
use maud::html;

use super::super::api::{job_not_found, known_queue};
use super::super::auth::Principal;
use super::super::error::ApiError;
use super::super::params;
use super::super::state::AppState;
use super::layout::{Nav, action_button, page};
use super::queues::url;
use crate::format::{pretty_payload, time};

pub(crate) async fn job(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Html<String>, ApiError> {
    let id = params::job_id(&id)?;
    let name = known_queue(&state, &name).await?;
    let job = state
        .admin
        .job(&name, id)
        .await?
        .ok_or_else(|| job_not_found(id))?;
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
    let action = |what: &str| state.link(&format!("/queues/{}/job/{}/{what}", url(&name), job.id));
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
            @let retry_label = if job.state == JobState::Scheduled { "Run now" } else { "Retry now" };
            (action_button(&state, &who, &action("retry"), retry_label, "", Some("retry-job")))
            (action_button(&state, &who, &action("delete"), "Delete", "danger", Some("delete-job")))
            a.button.secondary href=(state.link(&format!("/queues/{}/jobs/{state_name}", url(&name)))) { "Back to " (state_name) " jobs" }
        }
        dl.facts {
            dt { "Type" } dd { (job.job_type.as_deref().unwrap_or("(undecodable)")) }
            dt { "Queue" } dd { code { (job.queue) } }
            dt { "State" } dd { span class={ "badge " (state_name) } #job-state { (state_name) } }
            dt { "Attempts" } dd { (job.attempt) @if let Some(max) = job.max_attempts { " of " (max) } }
            dt { "Priority" } dd { (job.priority) }
            dt { "Enqueued" } dd { (time(job.enqueued_at)) }
            dt { (at_label) } dd { (time(job.at)) }
            dt { "Last failure" } dd { (time(started)) }
        }
        @if let Some(err) = &job.decode_error {
            h2 { "Record could not be decoded" }
            pre.error { (err) }
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
        pre.payload #payload { (pretty_payload(&job.payload)) }
        h2 { "Errors (" (job.errors.len()) ")" }
        @if job.errors.is_empty() {
            p.empty { "No failures recorded." }
        } @else {
            ol.errors {
                @for e in job.errors.iter().rev() {
                    li {
                        div.muted { "Attempt " (e.attempt) " · " (format!("{:?}", e.kind).to_lowercase()) " · " (time(jobqueue_core::admin::millis_to_datetime(e.at))) }
                        pre.error { (e.message) }
                    }
                }
            }
        }
    };
    Ok(Html(
        page(&state, &who, Nav::Queues, "Job", None, body).into_string(),
    ))
}
