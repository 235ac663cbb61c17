//! A queue's keyed flow control (see `jobqueue_core::admin::keys`): its keys with
//! work, a key's jobs, and the limits of its key classes (shown, set,
//! cleared).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use jobqueue_core::KeyLimits;
use serde::Serialize;

use crate::actions::keys::{self, KeyClassView};
use crate::actions::limits::LimitsView;
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::security::principal::Principal;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/queues/{queue}/keys", get(keys_with_work))
        .route("/queues/{queue}/keys/{key}/jobs", get(key_jobs))
        .route("/queues/{queue}/key-limits", get(class_limits))
        .route(
            "/queues/{queue}/key-limits/{class}",
            get(one_class).put(set_class).delete(clear_class),
        )
}

/// Limits as the keys listing spells them: plain numbers, `None` = not limited.
#[derive(Debug, Serialize)]
struct FlatLimitsView {
    max_running: Option<u32>,
    rate_limit: Option<u32>,
    rate_per_ms: Option<u64>,
    rate_mode: Option<jobqueue_core::RateMode>,
}

impl From<KeyLimits> for FlatLimitsView {
    fn from(limits: KeyLimits) -> Self {
        Self {
            max_running: limits.max_running,
            rate_limit: limits.rate.map(|rate| rate.limit),
            rate_per_ms: limits
                .rate
                .map(|rate| u64::try_from(rate.per.as_millis()).unwrap_or(u64::MAX)),
            rate_mode: limits.rate.map(|rate| rate.mode),
        }
    }
}

#[derive(Debug, Serialize)]
struct ClassView {
    class: String,
    limits: FlatLimitsView,
}

#[derive(Debug, Serialize)]
struct KeyView {
    key: String,
    waiting: u64,
    running: u64,
    limits: FlatLimitsView,
    weight: u32,
}

/// `GET /queues/{queue}/keys`.
#[derive(Debug, Serialize)]
struct KeysView {
    default_limits: FlatLimitsView,
    classes: Vec<ClassView>,
    keys: Vec<KeyView>,
}

/// The queue's key classes with their limits, and its keys with work.
async fn keys_with_work(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<KeysView>, ApiError> {
    let name = state.known_queue(&name).await?;
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
                weight: k.weight,
            })
            .collect(),
    }))
}

/// One page of the jobs waiting for a key, in the order they will run.
async fn key_jobs(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<impl Serialize>, ApiError> {
    let name = state.known_queue(&name).await?;
    let params = Params::parse(query.as_deref());
    let offset = usize::try_from(params.number("offset", 0)?).unwrap_or(usize::MAX);
    let jobs = state
        .admin
        .list_flow_key(&name, &key, offset, params.limit()?)
        .await?;
    Ok(Json(jobs))
}

/// `GET /queues/{queue}/key-limits`: the limits of every class nobody
/// configured, and each configured class's.
#[derive(Debug, Serialize)]
struct ClassLimitsView {
    default: LimitsView,
    classes: Vec<KeyClassView>,
}

async fn class_limits(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<ClassLimitsView>, ApiError> {
    let name = state.known_queue(&name).await?;
    Ok(Json(ClassLimitsView {
        default: KeyLimits::DEFAULT.into(),
        classes: keys::class_limits(&state.admin, &name).await?,
    }))
}

/// The limits keys of one class get (`configured: false`: the default).
async fn one_class(
    State(state): State<Arc<AppState>>,
    Path((name, class)): Path<(String, String)>,
) -> Result<Json<KeyClassView>, ApiError> {
    let name = state.known_queue(&name).await?;
    Ok(Json(
        keys::one_class_limits(&state.admin, &name, &class).await?,
    ))
}

/// Sets a class's limits; the body is a queue-limits body
/// (`{"max_running": 2, "rate": {"limit": 10, "per_ms": 1000}}`, a missing
/// member is no limit of that kind).
async fn set_class(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, class)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<KeyClassView>, ApiError> {
    let view: LimitsView = params::json_body(&body)?;
    let name = state.known_queue(&name).await?;
    let set = keys::set_key_limits(&state, &who, &name, &class, Some(view)).await?;
    Ok(Json(set))
}

/// Clears a class's limits: its keys get the default again (404 when it
/// had none).
async fn clear_class(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((name, class)): Path<(String, String)>,
) -> Result<Json<KeyClassView>, ApiError> {
    let name = state.known_queue(&name).await?;
    let cleared = keys::set_key_limits(&state, &who, &name, &class, None).await?;
    Ok(Json(cleared))
}
