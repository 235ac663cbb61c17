//! `GET /queues/{queue}/batches` (a queue's batches, `?state=open|finished|cancelled`,
//! `?offset=`, `?limit=`), `GET /queues/{queue}/batches/{id}` (one batch)
//! and `POST /queues/{queue}/batches/{id}/{retry-dead|cancel}`.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Serialize;

use crate::actions::batches::{self, BatchAction};
use crate::error::ApiError;
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/queues/{queue}/batches", get(list))
        .route("/queues/{queue}/batches/{id}", get(one))
        .route("/queues/{queue}/batches/{id}/{action}", post(action))
}

async fn list(
    State(state): State<Arc<AppState>>,
    Path(queue): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<impl Serialize>, ApiError> {
    let params = Params::parse(query.as_deref());
    let filter = batches::state_filter(&params)?;
    let offset = params.number("offset", 0)?;
    let limit = params.number("limit", 50)?;
    let offset = usize::try_from(offset).map_err(|_| ApiError::bad_request("offset is too big"))?;
    let limit = usize::try_from(limit).map_err(|_| ApiError::bad_request("limit is too big"))?;
    Ok(Json(
        state.admin.batches(&queue, filter, offset, limit).await?,
    ))
}

async fn one(
    State(state): State<Arc<AppState>>,
    Path((queue, id)): Path<(String, String)>,
) -> Result<Json<impl Serialize>, ApiError> {
    let id = batches::batch_id(&id)?;
    Ok(Json(state.admin.batch(&queue, id).await?))
}

async fn action(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((queue, id, action)): Path<(String, String, String)>,
) -> Result<Json<impl Serialize>, ApiError> {
    let id = batches::batch_id(&id)?;
    let action = BatchAction::parse(&action)?;
    Ok(Json(
        batches::batch_action(&state, &who, &queue, id, action).await?,
    ))
}
