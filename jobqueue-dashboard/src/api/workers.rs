//! `GET /workers`: a page of live workers with the jobs each runs now.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::error::ApiError;
use crate::params::Params;
use crate::state::AppState;
use crate::worker_page::worker_page;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/workers", get(workers))
}

async fn workers(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Json<impl Serialize>, ApiError> {
    let params = Params::parse(query.as_deref());
    let cursor = usize::try_from(params.number("cursor", 0)?).unwrap_or(usize::MAX);
    let (page, _) = worker_page(&state, cursor, params.limit()?).await?;
    Ok(Json(page))
}
