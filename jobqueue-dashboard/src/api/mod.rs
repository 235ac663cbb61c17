//! The JSON API under `/api/v1` (described by `/api/v1/openapi.json`), one
//! file per thing it shows or changes. Reads call the operator API
//! directly; every state change goes through [`crate::actions`], as the
//! forms' do.

#[cfg(feature = "alerts")]
mod alerts;
mod audit;
mod batches;
mod cron;
mod events;
mod jobs;
mod keys;
mod limits;
mod openapi;
mod queues;
mod scaling;
mod search;
mod stats;
pub(crate) mod watch;
mod weights;
mod workers;
mod workflows;

use std::sync::Arc;

use axum::Router;

use crate::state::AppState;

pub(crate) use events::MAX_EVENT_READERS;

/// The `/api/v1` routes.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    let router = Router::new()
        .merge(openapi::routes())
        .merge(stats::routes())
        .merge(queues::routes())
        .merge(scaling::routes())
        .merge(jobs::routes())
        .merge(search::routes())
        .merge(keys::routes())
        .merge(weights::routes())
        .merge(limits::routes())
        .merge(cron::routes())
        .merge(batches::routes())
        .merge(workers::routes())
        .merge(audit::routes())
        .merge(workflows::routes())
        .merge(events::routes())
        .merge(watch::routes());
    #[cfg(feature = "alerts")]
    let router = router.merge(alerts::routes());
    router
}
