//! `GET /workflows` (filters `queue`, `state`, `name`, `limit`),
//! `GET /workflows/{id}` (every node), `POST /workflows/{id}/cancel` and
//! `POST /workflows/{id}/retry-from/{node}`.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Serialize;

use crate::actions::workflows;
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::workflow_list::workflow_list;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/workflows", get(list))
        .route("/workflows/{id}", get(one))
        .route("/workflows/{id}/cancel", post(cancel))
        .route("/workflows/{id}/retry-from/{node}", post(retry_from))
}

async fn list(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Json<impl Serialize>, ApiError> {
    let params = Params::parse(query.as_deref());
    Ok(Json(workflow_list(&state, &params).await?))
}

async fn one(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<impl Serialize>, ApiError> {
    let id = params::job_id(&id)?;
    Ok(Json(state.admin.workflow(id).await?))
}

async fn cancel(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<impl Serialize>, ApiError> {
    let id = params::job_id(&id)?;
    Ok(Json(workflows::cancel_workflow(&state, &who, id).await?))
}

async fn retry_from(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((id, node)): Path<(String, String)>,
) -> Result<Json<impl Serialize>, ApiError> {
    let id = params::job_id(&id)?;
    Ok(Json(
        workflows::retry_workflow_from(&state, &who, id, &node).await?,
    ))
}
