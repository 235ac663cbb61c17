//! `GET /audit`: the audit log, newest entries first; `cursor` is the `id`
//! of the last entry of the previous page.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::error::ApiError;
use crate::params::Params;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/audit", get(audit))
}

async fn audit(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Json<impl Serialize>, ApiError> {
    let params = Params::parse(query.as_deref());
    let entries = state
        .admin
        .audit_log(params.get("cursor"), params.limit()?)
        .await?;
    Ok(Json(entries))
}
