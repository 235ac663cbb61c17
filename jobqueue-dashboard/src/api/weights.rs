//! A queue's weighted fairness between flow keys (see
//! `jobqueue_core::admin::fairness`): the weights of key classes and flow
//! keys (shown, set, cleared), and how long each key's jobs waited.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use jobqueue_core::admin::{FlowWaits, MAX_FLOW_WEIGHT};
use serde::Serialize;

use crate::actions::weights::{self, DEFAULT_WEIGHT, FlowWeightView, WeightBody};
use crate::error::ApiError;
use crate::params;
use crate::security::principal::Principal;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/queues/{queue}/weights", get(all_weights))
        .route(
            "/queues/{queue}/weights/{name}",
            get(one_weight).put(set_weight).delete(clear_weight),
        )
        .route("/queues/{queue}/keys/waits", get(key_waits))
}

/// `GET /queues/{queue}/weights`: the weight of a key nobody weighted, the
/// largest allowed, and every weight set.
#[derive(Debug, Serialize)]
struct WeightsView {
    default: u32,
    max: u32,
    weights: Vec<FlowWeightView>,
}

async fn all_weights(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<WeightsView>, ApiError> {
    let name = state.known_queue(&name).await?;
    Ok(Json(WeightsView {
        default: DEFAULT_WEIGHT,
        max: MAX_FLOW_WEIGHT,
        weights: weights::flow_weights(&state.admin, &name).await?,
    }))
}

/// The weight the keys named get (`configured: false`: not their own).
async fn one_weight(
    State(state): State<Arc<AppState>>,
    Path((queue, name)): Path<(String, String)>,
) -> Result<Json<FlowWeightView>, ApiError> {
    let queue = state.known_queue(&queue).await?;
    Ok(Json(
        weights::one_flow_weight(&state.admin, &queue, &name).await?,
    ))
}

/// Sets the weight of a key class or flow key: `{"weight": 3}`.
async fn set_weight(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((queue, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<FlowWeightView>, ApiError> {
    let WeightBody { weight } = params::json_body(&body)?;
    let queue = state.known_queue(&queue).await?;
    let set = weights::set_flow_weight(&state, &who, &queue, &name, Some(weight)).await?;
    Ok(Json(set))
}

/// Clears the weight of a key class or flow key (404 when it had none).
async fn clear_weight(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path((queue, name)): Path<(String, String)>,
) -> Result<Json<FlowWeightView>, ApiError> {
    let queue = state.known_queue(&queue).await?;
    let cleared = weights::set_flow_weight(&state, &who, &queue, &name, None).await?;
    Ok(Json(cleared))
}

/// p50/p99 waits of the queue's latest keyed starts, for its busiest keys
/// and the rest as "other".
async fn key_waits(
    State(state): State<Arc<AppState>>,
    Path(queue): Path<String>,
) -> Result<Json<FlowWaits>, ApiError> {
    let queue = state.known_queue(&queue).await?;
    Ok(Json(weights::key_waits(&state.admin, &queue).await?))
}
