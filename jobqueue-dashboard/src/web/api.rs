//! The JSON API under `/api/v1` (described by `/api/v1/openapi.json`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jobqueue_core::BrowseState;
use serde::Deserialize;
use uuid::Uuid;

use super::actions::{self, QueueAction, Selection};
use super::auth::Principal;
use super::error::ApiError;
use super::params::{self, Params};
use super::state::AppState;

type ApiResult = Result<Response, ApiError>;
type AppStateRef = State<Arc<AppState>>;

/// The OpenAPI 3.1 document of this API.
pub const OPENAPI_JSON: &str = include_str!("assets/openapi.json");

/// The `/api/v1` routes.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/stats", get(stats))
        .route("/history/{resolution}", get(history))
        .route("/queues", get(queues))
        .route("/queues/{queue}", get(queue))
        .route("/queues/{queue}/{action}", post(queue_action))
        .route("/queues/{queue}/jobs/{state}", get(jobs))
        .route("/queues/{queue}/jobs/{state}/{action}", post(jobs_action))
        .route("/queues/{queue}/groups", get(groups))
        .route("/queues/{queue}/job/{id}", get(job_in_queue))
        .route("/jobs/{id}", get(find_job))
        .route("/workers", get(workers))
        .route("/audit", get(audit))
        .merge(super::flow_api::routes())
        .merge(super::flow_keys::routes())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

async fn stats(State(state): AppStateRef) -> ApiResult {
    let snapshot = state.snapshot.get(&state.admin).await?;
    Ok(Json(snapshot.as_ref()).into_response())
}

async fn history(
    State(state): AppStateRef,
    Path(resolution): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let params = Params::parse(query.as_deref());
    let points = match resolution.as_str() {
        "minutes" => {
            let count = params.number("count", 60)?;
            state.admin.minute_history(clamp_count(count)).await?
        }
        "days" => {
            let count = params.number("count", 30)?;
            state.admin.day_history(clamp_count(count)).await?
        }
        other => {
            return Err(ApiError::not_found(format!(
                "unknown history resolution {other:?}: use minutes or days"
            )));
        }
    };
    Ok(Json(points).into_response())
}

fn clamp_count(count: u64) -> usize {
    usize::try_from(count).unwrap_or(usize::MAX).max(1)
}

async fn queues(State(state): AppStateRef) -> ApiResult {
    Ok(Json(state.admin.queues().await?).into_response())
}

/// Checks `name` names a known queue (404 otherwise).
pub(crate) async fn known_queue(state: &AppState, name: &str) -> Result<String, ApiError> {
    let known = state.admin.queue_names().await?;
    params::queue(name, &known)
}

async fn queue(State(state): AppStateRef, Path(name): Path<String>) -> ApiResult {
    let name = known_queue(&state, &name).await?;
    Ok(Json(state.admin.queue(&name).await?).into_response())
}

async fn queue_action(
    State(state): AppStateRef,
    Extension(who): Extension<Principal>,
    Path((name, action)): Path<(String, String)>,
) -> ApiResult {
    let action = QueueAction::parse(&action)?;
    let name = known_queue(&state, &name).await?;
    Ok(Json(actions::queue_action(&state, &who, &name, action).await?).into_response())
}

async fn jobs(
    State(state): AppStateRef,
    Path((name, job_state)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let job_state = params::state(&job_state)?;
    let name = known_queue(&state, &name).await?;
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
    Ok(Json(page).into_response())
}

/// Body of a bulk action: either `ids`, or `all_matching` with a filter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsActionBody {
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

async fn jobs_action(
    State(state): AppStateRef,
    Extension(who): Extension<Principal>,
    Path((name, job_state, action)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let job_state: BrowseState = params::state(&job_state)?;
    let action = actions::bulk_action(&action)?;
    let body: JobsActionBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let selection = match (body.all_matching, body.ids.is_empty()) {
        (true, true) => Selection::AllMatching(jobqueue_core::JobFilter {
            job_type: body.job_type,
            error_contains: body.error,
            fingerprint: body.fingerprint,
        }),
        (false, false) => Selection::Ids(body.ids),
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
        && ids.len() > jobqueue_core::admin::MAX_PAGE_SIZE
    {
        return Err(ApiError::bad_request(
            "at most 1000 ids per request; use all_matching for more",
        ));
    }
    let name = known_queue(&state, &name).await?;
    let outcome = actions::jobs_action(&state, &who, &name, job_state, action, selection).await?;
    Ok(Json(outcome).into_response())
}

async fn groups(State(state): AppStateRef, Path(name): Path<String>) -> ApiResult {
    let name = known_queue(&state, &name).await?;
    Ok(Json(state.admin.dead_groups(&name).await?).into_response())
}

async fn job_in_queue(
    State(state): AppStateRef,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult {
    let id = params::job_id(&id)?;
    let name = known_queue(&state, &name).await?;
    match state.admin.job(&name, id).await? {
        Some(job) => job_detail(&state, job).await,
        None => Err(job_not_found(id)),
    }
}

async fn find_job(State(state): AppStateRef, Path(id): Path<String>) -> ApiResult {
    let id = params::job_id(&id)?;
    match state.admin.find_job(id).await? {
        Some(job) => job_detail(&state, job).await,
        None => Err(job_not_found(id)),
    }
}

/// One job with its status (progress, result) and its parents and
/// children (job chains), when it has any.
#[derive(Debug, serde::Serialize)]
struct JobDetail {
    #[serde(flatten)]
    view: super::flow_api::JobView,
    #[serde(skip_serializing_if = "jobqueue_core::admin::JobDependencies::is_empty")]
    dependencies: jobqueue_core::admin::JobDependencies,
}

async fn job_detail(state: &AppState, job: jobqueue_core::JobInfo) -> ApiResult {
    let dependencies = state.admin.dependencies(&job).await?;
    let view = super::flow_api::job_view(state, job).await?;
    Ok(Json(JobDetail { view, dependencies }).into_response())
}

/// 404 for a job that is not scheduled, retrying, dead, waiting for
/// parents, cancelled or expired.
pub(crate) fn job_not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format!(
        "no scheduled, retrying, dead, waiting, cancelled or expired job {id} (it may be ready, \
         running, finished or unknown)"
    ))
}

/// A worker and the jobs it runs now.
#[derive(Debug, serde::Serialize)]
pub(crate) struct WorkerView {
    #[serde(flatten)]
    pub(crate) info: jobqueue_core::WorkerInfo,
    pub(crate) running: Vec<jobqueue_core::admin::RunningJob>,
}

/// One page of live workers with what each is running.
pub(crate) async fn worker_page(
    state: &AppState,
    cursor: usize,
    limit: usize,
) -> Result<(Vec<WorkerView>, usize), ApiError> {
    let all = state.admin.workers().await?;
    let total = all.len();
    let page: Vec<_> = all.into_iter().skip(cursor).take(limit).collect();
    let running = state.admin.running_jobs(&page).await?;
    let views = page
        .into_iter()
        .zip(running)
        .map(|(info, running)| WorkerView { info, running })
        .collect();
    Ok((views, total))
}

async fn workers(State(state): AppStateRef, RawQuery(query): RawQuery) -> ApiResult {
    let params = Params::parse(query.as_deref());
    let cursor = usize::try_from(params.number("cursor", 0)?).unwrap_or(usize::MAX);
    let (page, _) = worker_page(&state, cursor, params.limit()?).await?;
    Ok(Json(page).into_response())
}

/// Newest entries first; `cursor` is the `id` of the last entry of the
/// previous page.
async fn audit(State(state): AppStateRef, RawQuery(query): RawQuery) -> ApiResult {
    let params = Params::parse(query.as_deref());
    let entries = state
        .admin
        .audit_log(params.get("cursor"), params.limit()?)
        .await?;
    Ok(Json(entries).into_response())
}
