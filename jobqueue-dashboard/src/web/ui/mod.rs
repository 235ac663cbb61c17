//! The HTML pages. Rendered on the server with `maud`, which escapes every
//! interpolated value, so payloads, error messages, job types and queue
//! names can never become markup. Forms post back here with a CSRF token;
//! no GET changes anything.

mod assets;
mod audit;
mod chart;
mod cron;
pub(crate) mod error_page;
mod forms;
mod job;
mod jobs;
mod key_limits;
mod keys;
mod layout;
mod limits;
mod overview;
mod queues;
mod visible;
mod workers;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use super::state::AppState;

/// The page routes.
pub(crate) fn routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview::overview))
        .route("/charts/{resolution}", get(overview::chart))
        .route("/assets/{file}", get(assets::asset))
        .route("/queues", get(queues::queues))
        .route("/queues/{queue}/confirm-purge", get(queues::confirm_purge))
        .route("/queues/{queue}/{action}", post(forms::queue_action))
        .route("/queues/{queue}/jobs/{state}", get(jobs::jobs))
        .route(
            "/queues/{queue}/jobs/{state}/bulk",
            post(forms::bulk_action),
        )
        .route("/queues/{queue}/groups", get(jobs::groups))
        .route(
            "/queues/{queue}/groups/{fingerprint}/{action}",
            post(forms::group_action),
        )
        .route("/queues/{queue}/job/{id}", get(job::job))
        .route("/queues/{queue}/job/{id}/{action}", post(forms::job_action))
        .route("/queues/{queue}/job/{id}/cancel", post(forms::cancel_job))
        .route(
            "/queues/{queue}/limits",
            get(limits::limits).post(limits::set_limits),
        )
        .route("/queues/{queue}/limits/clear", post(limits::clear_limits))
        .route("/queues/{queue}/keys", get(keys::keys))
        .route("/queues/{queue}/key-limits", post(key_limits::set))
        .route("/queues/{queue}/key-limits/clear", post(key_limits::clear))
        .route("/cron", get(cron::cron))
        .route("/cron/{queue}/{name}/{action}", post(cron::cron_action))
        .route("/workers", get(workers::workers))
        .route("/audit", get(audit::audit))
        .layer(axum::middleware::from_fn_with_state(
            state,
            error_page::html_errors,
        ))
}
