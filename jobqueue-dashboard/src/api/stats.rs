//! `GET /stats` (the cached overview snapshot) and `GET /history/{minutes|days}`
//! (processed and failed jobs per minute or per day).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::error::ApiError;
use crate::params::Params;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/stats", get(stats))
        .route("/history/{resolution}", get(history))
}

async fn stats(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let snapshot = state.snapshot.get(&state.admin).await?;
    Ok(Json(snapshot.as_ref()).into_response())
}

async fn history(
    State(state): State<Arc<AppState>>,
    Path(resolution): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<impl Serialize>, ApiError> {
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
    Ok(Json(points))
}

fn clamp_count(count: u64) -> usize {
    usize::try_from(count).unwrap_or(usize::MAX).max(1)
}
