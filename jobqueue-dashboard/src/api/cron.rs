//! `GET /cron` (every entry) and `POST /cron/{queue}/{name}/{pause|resume|run|remove}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Serialize;

use crate::actions::cron::{self, CronAction};
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/cron", get(entries))
        .route("/cron/{queue}/{name}/{action}", post(entry_action))
}

async fn entries(State(state): State<Arc<AppState>>) -> Result<Json<impl Serialize>, ApiError> {
    Ok(Json(state.admin.cron_entries().await?))
}

async fn entry_action(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((queue, name, action)): Path<(String, String, String)>,
) -> Result<Json<impl Serialize>, ApiError> {
    let action = CronAction::parse(&action)?;
    let outcome = cron::cron_action(&state, &who, &queue, &name, action).await?;
    Ok(Json(outcome))
}
