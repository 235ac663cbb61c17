//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the JSON API.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// The OpenAPI 3.1 document of the JSON API under `/api/v1`.
pub(crate) const OPENAPI_JSON: &str = include_str!("../assets/openapi.json");

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/openapi.json", get(openapi))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}
