//! A queue's flow limits: `GET`, `PUT` (replace) and `DELETE` (clear)
//! `/queues/{queue}/limits`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Json, Router};

use crate::actions::limits::{self, LimitsView};
use crate::error::ApiError;
use crate::params;
use crate::security::principal::Principal;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route(
        "/queues/{queue}/limits",
        get(show).put(replace).delete(clear),
    )
}

async fn show(
    State(state): State<Arc<AppState>>,
    Path(queue): Path<String>,
) -> Result<Json<LimitsView>, ApiError> {
    let queue = state.known_queue(&queue).await?;
    Ok(Json(LimitsView::from(
        state.admin.queue_limits(&queue).await?,
    )))
}

/// The body is a [`LimitsView`]: a missing member is no limit of that kind.
async fn replace(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(queue): Path<String>,
    body: Bytes,
) -> Result<Json<LimitsView>, ApiError> {
    let view: LimitsView = params::json_body(&body)?;
    let queue = state.known_queue(&queue).await?;
    Ok(Json(
        limits::set_limits(&state, &who, &queue, Some(view)).await?,
    ))
}

async fn clear(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(queue): Path<String>,
) -> Result<Json<LimitsView>, ApiError> {
    let queue = state.known_queue(&queue).await?;
    Ok(Json(limits::set_limits(&state, &who, &queue, None).await?))
}
