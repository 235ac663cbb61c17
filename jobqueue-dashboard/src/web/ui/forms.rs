//! What the UI's forms post to: each checks the CSRF field, runs the shared
//! action (role check + audit log) and redirects back (303) with the result.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Redirect;
use jobqueue_core::{BrowseState, BulkAction, JobFilter};

use super::super::actions::{self, ActionOutcome, QueueAction, Selection};
use super::super::api::known_queue;
use super::super::auth::Principal;
use super::super::error::ApiError;
use super::super::params::{self, Params};
use super::super::state::AppState;
use super::queues::url;

/// Parses the form body (its CSRF token was checked on the way in, see
/// [`super::super::csrf`]).
pub(super) fn form(body: &Bytes) -> Result<Params, ApiError> {
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::bad_request("form body is not UTF-8"))?;
    Ok(Params::parse(Some(text)))
}

fn back(to: String, outcome: &ActionOutcome) -> Redirect {
    back_done(to, &outcome.action, outcome.count)
}

/// A 303 to `to` that tells the page what was done (`?done=<action>&n=<count>`).
pub(super) fn back_done(to: String, action: &str, count: u64) -> Redirect {
    let sep = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{sep}done={action}&n={count}"))
}

pub(crate) async fn queue_action(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Redirect, ApiError> {
    form(&body)?;
    let action = QueueAction::parse(&action)?;
    let name = known_queue(&state, &name).await?;
    let outcome = actions::queue_action(&state, &who, &name, action).await?;
    Ok(back(state.link("/queues"), &outcome))
}

pub(crate) async fn bulk_action(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, job_state)): Path<(String, String)>,
    body: Bytes,
) -> Result<Redirect, ApiError> {
    let form = form(&body)?;
    let job_state: BrowseState = params::state(&job_state)?;
    let action = actions::bulk_action(form.get("action").unwrap_or(""))?;
    let selection = if form.get("all_matching") == Some("1") {
        Selection::AllMatching(form.filter()?)
    } else {
        let ids = form
            .all("ids")
            .map(params::job_id)
            .collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            return Err(ApiError::bad_request(
                "select at least one job, or tick \"all matching\"",
            ));
        }
        Selection::Ids(ids)
    };
    let name = known_queue(&state, &name).await?;
    let outcome = actions::jobs_action(&state, &who, &name, job_state, action, selection).await?;
    Ok(back(
        state.link(&format!(
            "/queues/{}/jobs/{}",
            url(&name),
            job_state.as_str()
        )),
        &outcome,
    ))
}

pub(crate) async fn group_action(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, fingerprint, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Redirect, ApiError> {
    form(&body)?;
    let action: BulkAction = actions::bulk_action(&action)?;
    if fingerprint.len() != 16 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(
            "an error fingerprint is 16 hex digits",
        ));
    }
    let name = known_queue(&state, &name).await?;
    let filter = JobFilter {
        fingerprint: Some(fingerprint),
        ..JobFilter::default()
    };
    let outcome = actions::jobs_action(
        &state,
        &who,
        &name,
        BrowseState::Dead,
        action,
        Selection::AllMatching(filter),
    )
    .await?;
    Ok(back(
        state.link(&format!("/queues/{}/groups", url(&name))),
        &outcome,
    ))
}

pub(crate) async fn job_action(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, id, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Redirect, ApiError> {
    form(&body)?;
    let id = params::job_id(&id)?;
    let action = actions::bulk_action(&action)?;
    let name = known_queue(&state, &name).await?;
    let job = state
        .admin
        .job(&name, id)
        .await?
        .ok_or_else(|| super::super::api::job_not_found(id))?;
    let job_state = match job.state {
        // A ready job with a flow key waits in its key's list.
        jobqueue_core::JobState::Ready if job.flow_key.is_some() => BrowseState::Keyed,
        jobqueue_core::JobState::Scheduled => BrowseState::Scheduled,
        jobqueue_core::JobState::Retry => BrowseState::Retry,
        jobqueue_core::JobState::Waiting => BrowseState::Waiting,
        // Cancelled and expired jobs cannot be retried or deleted: the
        // shared action answers 409 for them.
        jobqueue_core::JobState::Cancelled => BrowseState::Cancelled,
        jobqueue_core::JobState::Expired => BrowseState::Expired,
        _ => BrowseState::Dead,
    };
    let outcome = actions::jobs_action(
        &state,
        &who,
        &name,
        job_state,
        action,
        Selection::Ids(vec![id]),
    )
    .await?;
    Ok(back(
        state.link(&format!(
            "/queues/{}/jobs/{}",
            url(&name),
            job_state.as_str()
        )),
        &outcome,
    ))
}

/// Cancel: from the job page (scheduled and retrying jobs) and from the
/// inline details of ready and running jobs. Back to the job's page, which
/// then shows it cancelled.
pub(crate) async fn cancel_job(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Redirect, ApiError> {
    form(&body)?;
    let id = params::job_id(&id)?;
    let name = known_queue(&state, &name).await?;
    let outcome = super::super::flow_actions::cancel_job(&state, &who, &name, id).await?;
    Ok(back_done(
        state.link(&format!("/queues/{}/job/{id}", url(&name))),
        outcome.action,
        outcome.count,
    ))
}
