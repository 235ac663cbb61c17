//! `GET /queues`, `GET /queues/{queue}` and `POST /queues/{queue}/{pause|resume|purge}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Serialize;

use crate::actions::queues::{self, QueueAction};
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/queues", get(all_queues))
        .route("/queues/{queue}", get(one_queue))
        .route("/queues/{queue}/{action}", post(queue_action))
}

async fn all_queues(State(state): State<Arc<AppState>>) -> Result<Json<impl Serialize>, ApiError> {
    Ok(Json(state.admin.queues().await?))
}

async fn one_queue(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<impl Serialize>, ApiError> {
    let name = state.known_queue(&name).await?;
    Ok(Json(state.admin.queue(&name).await?))
}

async fn queue_action(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, action)): Path<(String, String)>,
) -> Result<Json<impl Serialize>, ApiError> {
    let action = QueueAction::parse(&action)?;
    let name = state.known_queue(&name).await?;
    Ok(Json(
        queues::queue_action(&state, &who, &name, action).await?,
    ))
}
