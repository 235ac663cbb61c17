//! `GET /alerts`: the alert rules with their state, the sinks and the
//! leader (see `docs/alerts.md`).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::alerts::alerts_overview;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/alerts", get(alerts))
}

async fn alerts(State(state): State<Arc<AppState>>) -> Result<Json<impl Serialize>, ApiError> {
    Ok(Json(
        alerts_overview(&state.admin, state.config.alerts.as_deref()).await?,
    ))
}
