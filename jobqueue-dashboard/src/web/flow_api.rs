//! The JSON API of the flow-control features (merged into `/api/v1`):
//! cron entries, cancelling a job, a queue's flow limits and a job's
//! status (progress and result).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jobqueue_core::{JobInfo, JobStatus};
use serde::Serialize;

use super::api::known_queue;
use super::auth::Principal;
use super::error::ApiError;
use super::flow_actions::{self, CronAction, LimitsView};
use super::params;
use super::state::AppState;

type ApiResult = Result<Response, ApiError>;
type AppStateRef = State<Arc<AppState>>;

/// The flow-control routes, relative to `/api/v1`.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/cron", get(cron_entries))
        .route("/cron/{queue}/{name}/{action}", post(cron_action))
        .route("/queues/{queue}/job/{id}/cancel", post(cancel))
        .route(
            "/queues/{queue}/limits",
            get(limits).put(put_limits).delete(delete_limits),
        )
        .route("/jobs/{id}/status", get(status))
}

async fn cron_entries(State(state): AppStateRef) -> ApiResult {
    Ok(Json(state.admin.cron_entries().await?).into_response())
}

async fn cron_action(
    State(state): AppStateRef,
    Extension(who): Extension<Principal>,
    Path((queue, name, action)): Path<(String, String, String)>,
) -> ApiResult {
    let action = CronAction::parse(&action)?;
    let outcome = flow_actions::cron_action(&state, &who, &queue, &name, action).await?;
    Ok(Json(outcome).into_response())
}

async fn cancel(
    State(state): AppStateRef,
    Extension(who): Extension<Principal>,
    Path((queue, id)): Path<(String, String)>,
) -> ApiResult {
    let id = params::job_id(&id)?;
    let queue = known_queue(&state, &queue).await?;
    Ok(Json(flow_actions::cancel_job(&state, &who, &queue, id).await?).into_response())
}

async fn limits(State(state): AppStateRef, Path(queue): Path<String>) -> ApiResult {
    let queue = known_queue(&state, &queue).await?;
    let limits = LimitsView::from(state.admin.queue_limits(&queue).await?);
    Ok(Json(limits).into_response())
}

async fn put_limits(
    State(state): AppStateRef,
    Extension(who): Extension<Principal>,
    Path(queue): Path<String>,
    body: Bytes,
) -> ApiResult {
    let view: LimitsView = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let queue = known_queue(&state, &queue).await?;
    let set = flow_actions::set_limits(&state, &who, &queue, Some(view)).await?;
    Ok(Json(set).into_response())
}

async fn delete_limits(
    State(state): AppStateRef,
    Extension(who): Extension<Principal>,
    Path(queue): Path<String>,
) -> ApiResult {
    let queue = known_queue(&state, &queue).await?;
    let cleared = flow_actions::set_limits(&state, &who, &queue, None).await?;
    Ok(Json(cleared).into_response())
}

async fn status(State(state): AppStateRef, Path(id): Path<String>) -> ApiResult {
    let id = params::job_id(&id)?;
    match state.admin.store().job_status(id).await? {
        Some(status) => Ok(Json(status).into_response()),
        None => Err(ApiError::not_found(format!(
            "job {id} has no status (not tracked, never reported progress, or past its TTL)"
        ))),
    }
}

/// A job with its status (progress, result), when it has one.
#[derive(Debug, Serialize)]
pub(crate) struct JobView {
    #[serde(flatten)]
    job: JobInfo,
    status: Option<JobStatus>,
}

/// `job` with its status read from Redis (one `HGETALL`).
pub(crate) async fn job_view(state: &AppState, job: JobInfo) -> Result<JobView, ApiError> {
    let status = state.admin.store().job_status(job.id).await?;
    Ok(JobView { job, status })
}
