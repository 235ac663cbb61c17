//! Job search: `GET /queues/{queue}/search?tag=…|id=…|type=…|field=…`
//! (one page, with `cursor`, `limit`, `budget`) and
//! `POST /queues/{queue}/search/{retry|delete|cancel}` with the same query
//! parameters (acts on that page's jobs; operator role).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jobqueue_core::admin::{SearchActionReport, SearchPage};

use crate::actions::search::{act_on_search, search_action};
use crate::error::ApiError;
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/queues/{queue}/search", get(search))
        .route("/queues/{queue}/search/{action}", post(act))
}

async fn search(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<SearchPage>, ApiError> {
    let search = Params::parse(query.as_deref()).search()?;
    let name = state.known_queue(&name).await?;
    let page = state
        .admin
        .search(
            &name,
            &search.query,
            search.cursor.as_deref(),
            search.limit,
            search.budget,
        )
        .await?;
    Ok(Json(page))
}

async fn act(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, action)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<SearchActionReport>, ApiError> {
    let action = search_action(&action)?;
    let search = Params::parse(query.as_deref()).search()?;
    let name = state.known_queue(&name).await?;
    Ok(Json(
        act_on_search(&state, &who, &name, &search, action).await?,
    ))
}
