//! The flow-key routes of the JSON API: a queue's keyed flow control
//! (see `jobqueue_core::admin::keys`): its keys with work, a key's jobs, and the
//! limits of its key classes (shown, set, cleared).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use jobqueue_core::KeyLimits;
use serde::Serialize;

use super::api::known_queue;
use super::auth::Principal;
use super::error::ApiError;
use super::flow_actions;
use super::key_limits::{self as class_limits, KeyClassView};
use super::params::Params;
use super::state::AppState;

/// The flow-key routes, relative to `/api/v1`.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/queues/{queue}/keys", get(keys))
        .route("/queues/{queue}/keys/{key}/jobs", get(key_jobs))
        .route("/queues/{queue}/key-limits", get(key_limits))
        .route(
            "/queues/{queue}/key-limits/{class}",
            get(class_limit)
                .put(put_class_limit)
                .delete(delete_class_limit),
        )
}

/// Limits as the API spells them: plain numbers, `None` = not limited.
#[derive(Debug, Serialize)]
struct LimitsView {
    max_running: Option<u32>,
    rate_limit: Option<u32>,
    rate_per_ms: Option<u64>,
}

impl From<KeyLimits> for LimitsView {
    fn from(limits: KeyLimits) -> Self {
        Self {
            max_running: limits.max_running,
            rate_limit: limits.rate.map(|rate| rate.limit),
            rate_per_ms: limits
                .rate
                .map(|rate| u64::try_from(rate.per.as_millis()).unwrap_or(u64::MAX)),
        }
    }
}

#[derive(Debug, Serialize)]
struct ClassView {
    class: String,
    limits: LimitsView,
}

#[derive(Debug, Serialize)]
struct KeyView {
    key: String,
    waiting: u64,
    running: u64,
    limits: LimitsView,
}

/// `GET /queues/{queue}/keys`.
#[derive(Debug, Serialize)]
struct KeysView {
    default_limits: LimitsView,
    classes: Vec<ClassView>,
    keys: Vec<KeyView>,
}

/// The queue's key classes with their limits, and its keys with work.
async fn keys(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let name = known_queue(&state, &name).await?;
    let limit = Params::parse(query.as_deref()).limit()?;
    let classes = state.admin.key_limits(&name).await?;
    let keys = state.admin.flow_keys(&name, limit).await?;
    Ok(Json(KeysView {
        default_limits: KeyLimits::DEFAULT.into(),
        classes: classes
            .into_iter()
            .map(|c| ClassView {
                class: c.class,
                limits: c.limits.into(),
            })
            .collect(),
        keys: keys
            .into_iter()
            .map(|k| KeyView {
                key: k.key,
                waiting: k.waiting,
                running: k.running,
                limits: k.limits.into(),
            })
            .collect(),
    })
    .into_response())
}

/// One page of the jobs waiting for a key, in the order they will run.
async fn key_jobs(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let name = known_queue(&state, &name).await?;
    let params = Params::parse(query.as_deref());
    let offset = usize::try_from(params.number("offset", 0)?).unwrap_or(usize::MAX);
    let jobs = state
        .admin
        .list_flow_key(&name, &key, offset, params.limit()?)
        .await?;
    Ok(Json(jobs).into_response())
}

/// `GET /queues/{queue}/key-limits`: the limits of every class nobody
/// configured, and each configured class's.
#[derive(Debug, Serialize)]
struct KeyLimitsView {
    default: flow_actions::LimitsView,
    classes: Vec<KeyClassView>,
}

async fn key_limits(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let name = known_queue(&state, &name).await?;
    Ok(Json(KeyLimitsView {
        default: KeyLimits::DEFAULT.into(),
        classes: class_limits::class_limits(&state.admin, &name).await?,
    })
    .into_response())
}

/// The limits keys of one class get (`configured: false`: the default).
async fn class_limit(
    State(state): State<Arc<AppState>>,
    Path((name, class)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let name = known_queue(&state, &name).await?;
    let view = class_limits::one_class_limits(&state.admin, &name, &class).await?;
    Ok(Json(view).into_response())
}

/// Sets a class's limits; the body is a queue-limits body
/// (`{"max_running": 2, "rate": {"limit": 10, "per_ms": 1000}}`, a missing
/// member is no limit of that kind).
async fn put_class_limit(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, class)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let view: flow_actions::LimitsView = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let name = known_queue(&state, &name).await?;
    let set = class_limits::set_key_limits(&state, &who, &name, &class, Some(view)).await?;
    Ok(Json(set).into_response())
}

/// Clears a class's limits: its keys get the default again (404 when it
/// had none).
async fn delete_class_limit(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, class)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let name = known_queue(&state, &name).await?;
    let cleared = class_limits::set_key_limits(&state, &who, &name, &class, None).await?;
    Ok(Json(cleared).into_response())
}
