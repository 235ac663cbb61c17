//! `GET /scaling`: the autoscaling signal in the shape KEDA's `metrics-api`
//! scaler reads — `{"queues":{"mail":{"desired_workers":3,…}}}` (a
//! `valueLocation` of `queues.mail.desired_workers`), or one queue's
//! object with `?queue=mail` (`valueLocation: desired_workers`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jobqueue_core::admin::scaling::QueueScaling;
use serde::Serialize;

use crate::error::ApiError;
use crate::params::Params;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/scaling", get(scaling))
}

/// Every queue's signal, by name.
#[derive(Serialize)]
struct AllQueues<'a> {
    queues: BTreeMap<&'a str, &'a QueueScaling>,
}

async fn scaling(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    if let Some(name) = params.names().find(|name| *name != "queue") {
        return Err(ApiError::bad_request(format!(
            "unknown parameter {name:?}: /scaling takes only \"queue\""
        )));
    }
    let asked: Vec<&str> = params.all("queue").collect();
    let queue = match asked.as_slice() {
        [] => None,
        [one] => Some(state.known_queue(one).await?),
        _ => {
            return Err(ApiError::bad_request(
                "parameter \"queue\" is given more than once",
            ));
        }
    };
    let signals = state.scaling.get(&state.admin).await?;
    match queue {
        None => Ok(Json(AllQueues {
            queues: signals.iter().map(|s| (s.queue.as_str(), s)).collect(),
        })
        .into_response()),
        Some(queue) => match signals.iter().find(|s| s.queue == queue) {
            Some(signal) => Ok(Json(signal).into_response()),
            // Known since the cached signal was read: the next read has it.
            None => Err(ApiError::not_found(format!(
                "no scaling signal for queue {queue:?} yet: ask again in a few seconds"
            ))),
        },
    }
}
