//! The flow-key routes of the JSON API: a queue's keyed flow control
//! (see `jobqueue_core::flow`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use jobqueue_core::KeyLimits;
use serde::Serialize;

use super::api::known_queue;
use super::error::ApiError;
use super::params::Params;
use super::state::AppState;

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
pub(crate) async fn keys(
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
pub(crate) async fn key_jobs(
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
