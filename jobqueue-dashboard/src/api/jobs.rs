//! Jobs: a page of a queue's jobs in one state, retry or delete them
//! (`POST .../jobs/{state}/{retry|run|delete}`), dead jobs grouped by
//! error, one job (in a queue, or found anywhere by id) with its status
//! and chain, a job's status alone, a job's logs per attempt, and
//! cancelling a job.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jobqueue_core::admin::{DurableState, JobDependencies, MAX_PAGE_SIZE};
use jobqueue_core::{AttemptLog, JobFilter, JobInfo, JobStatus};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actions::jobs::{self, Selection};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::security::principal::Principal;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/queues/{queue}/jobs/{state}", get(list))
        .route("/queues/{queue}/jobs/{state}/{action}", post(list_action))
        .route("/queues/{queue}/groups", get(groups))
        .route("/queues/{queue}/job/{id}", get(job_in_queue))
        .route("/queues/{queue}/job/{id}/logs", get(logs))
        .route("/queues/{queue}/job/{id}/cancel", post(cancel))
        .route("/queues/{queue}/job/{id}/signal/{name}", post(signal))
        .route("/jobs/{id}", get(find_job))
        .route("/jobs/{id}/status", get(status))
}

async fn list(
    State(state): State<Arc<AppState>>,
    Path((name, job_state)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<impl Serialize>, ApiError> {
    let job_state = params::state(&job_state)?;
    let name = state.known_queue(&name).await?;
    let params = Params::parse(query.as_deref());
    let page = state
        .admin
        .browse(
            &name,
            job_state,
            &params.filter()?,
            params.number("cursor", 0)?,
            params.limit()?,
        )
        .await?;
    Ok(Json(page))
}

/// Body of a bulk action: either `ids`, or `all_matching` with a filter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListActionBody {
    #[serde(default)]
    ids: Vec<Uuid>,
    #[serde(default)]
    all_matching: bool,
    #[serde(default, rename = "type")]
    job_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
}

impl ListActionBody {
    /// Which jobs the body selects, or 400 when it selects none or both ways.
    fn selection(self) -> Result<Selection, ApiError> {
        let selection = match (self.all_matching, self.ids.is_empty()) {
            (true, true) => Selection::AllMatching(JobFilter {
                job_type: self.job_type,
                error_contains: self.error,
                fingerprint: self.fingerprint,
            }),
            (false, false) => Selection::Ids(self.ids),
            (true, false) => {
                return Err(ApiError::bad_request(
                    "give either \"ids\" or \"all_matching\": true, not both",
                ));
            }
            (false, true) => {
                return Err(ApiError::bad_request(
                    "give \"ids\" (a non-empty list) or \"all_matching\": true",
                ));
            }
        };
        if let Selection::Ids(ids) = &selection
            && ids.len() > MAX_PAGE_SIZE
        {
            return Err(ApiError::bad_request(
                "at most 1000 ids per request; use all_matching for more",
            ));
        }
        Ok(selection)
    }
}

async fn list_action(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, job_state, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<impl Serialize>, ApiError> {
    let job_state = params::state(&job_state)?;
    let action = jobs::bulk_action(&action)?;
    let selection = params::json_body::<ListActionBody>(&body)?.selection()?;
    let name = state.known_queue(&name).await?;
    let outcome = jobs::jobs_action(&state, &who, &name, job_state, action, &selection).await?;
    Ok(Json(outcome))
}

async fn groups(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<impl Serialize>, ApiError> {
    let name = state.known_queue(&name).await?;
    Ok(Json(state.admin.dead_groups(&name).await?))
}

/// One job with its status (progress, result) and its parents and
/// children (job chains), when it has any.
#[derive(Debug, Serialize)]
struct JobDetail {
    #[serde(flatten)]
    job: JobInfo,
    status: Option<JobStatus>,
    #[serde(skip_serializing_if = "JobDependencies::is_empty")]
    dependencies: JobDependencies,
    /// Steps, sleeps and signals of a durable job.
    #[serde(skip_serializing_if = "DurableState::is_empty")]
    durable: DurableState,
}

async fn job_detail(
    state: &AppState,
    who: &Principal,
    mut job: JobInfo,
) -> Result<Json<JobDetail>, ApiError> {
    state.reveal_payload(who, &mut job);
    let dependencies = state.admin.dependencies(&job).await?;
    let status = state
        .admin
        .store()
        .job_status_in(&job.queue, job.id)
        .await?;
    let durable = state.admin.durable_state(&job.queue, job.id).await?;
    Ok(Json(JobDetail {
        job,
        status,
        dependencies,
        durable,
    }))
}

async fn job_in_queue(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<JobDetail>, ApiError> {
    let id = params::job_id(&id)?;
    let name = state.known_queue(&name).await?;
    match state.admin.job(&name, id).await? {
        Some(job) => job_detail(&state, &who, job).await,
        None => Err(ApiError::job_not_found(id)),
    }
}

/// A job's logs, one entry per attempt (empty when none were kept).
#[derive(Serialize)]
struct JobLogs {
    queue: String,
    id: Uuid,
    attempts: Vec<AttemptLog>,
}

/// `GET /queues/{queue}/job/{id}/logs`.
async fn logs(
    State(state): State<Arc<AppState>>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<JobLogs>, ApiError> {
    let id = params::job_id(&id)?;
    let queue = state.known_queue(&name).await?;
    let attempts = state.admin.job_logs(&queue, id).await?;
    Ok(Json(JobLogs {
        queue,
        id,
        attempts,
    }))
}

async fn find_job(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<JobDetail>, ApiError> {
    let id = params::job_id(&id)?;
    match state.admin.find_job(id).await? {
        Some(job) => job_detail(&state, &who, job).await,
        None => Err(ApiError::job_not_found(id)),
    }
}

async fn status(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<JobStatus>, ApiError> {
    let id = params::job_id(&id)?;
    match state.admin.store().job_status(id).await? {
        Some(status) => Ok(Json(status)),
        None => Err(ApiError::not_found(format!(
            "job {id} has no status (not tracked, never reported progress, or past its TTL)"
        ))),
    }
}

async fn cancel(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((queue, id)): Path<(String, String)>,
) -> Result<Json<impl Serialize>, ApiError> {
    let id = params::job_id(&id)?;
    let queue = state.known_queue(&queue).await?;
    Ok(Json(jobs::cancel_job(&state, &who, &queue, id).await?))
}

/// `POST /queues/{queue}/job/{id}/signal/{name}`: the body is the signal's
/// JSON payload (empty: `null`).
async fn signal(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((queue, id, name)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<impl Serialize>, ApiError> {
    let id = params::job_id(&id)?;
    let queue = state.known_queue(&queue).await?;
    let payload = if body.iter().all(u8::is_ascii_whitespace) {
        "null"
    } else {
        std::str::from_utf8(&body)
            .map_err(|_| ApiError::bad_request("the signal's payload must be UTF-8 JSON"))?
    };
    let outcome =
        crate::actions::signals::send_signal(&state, &who, &queue, id, &name, payload).await?;
    Ok(Json(outcome))
}
