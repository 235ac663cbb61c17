//! The HTML pages and the forms they post. Rendered on the server with
//! `maud`, which escapes every interpolated value, so payloads, error
//! messages, job types and queue names can never become markup. Forms post
//! back here with a CSRF token; no GET changes anything.
//!
//! `pages/` holds one file per page (what it reads and shows), `forms/`
//! the handlers of the forms (each a few lines: one extractor does what
//! they share, and the action they run is in [`crate::actions`]); the
//! files here are what the pages share (frame, links, flash messages,
//! escaping, charts, assets, error pages).

pub(crate) mod assets;
mod chart;
pub(crate) mod error_page;
mod flash;
mod forms;
mod layout;
mod links;
mod pages;
pub(crate) mod sign_in;
mod visible;
mod workflow_graph;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// The page routes (`GET`) and the routes the forms post to.
pub(crate) fn routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let router = Router::new()
        .route("/", get(pages::overview::overview))
        .route("/charts/{resolution}", get(pages::overview::chart))
        .route("/queues", get(pages::queues::queues))
        .route(
            "/queues/{queue}/confirm-purge",
            get(pages::queues::confirm_purge),
        )
        .route(
            "/queues/{queue}/{action}",
            post(forms::queues::queue_action),
        )
        .route("/queues/{queue}/history", get(pages::history::history))
        .route("/queues/{queue}/watch", post(forms::watch::set))
        .route("/queues/{queue}/search", get(pages::search::search))
        .route("/queues/{queue}/search/bulk", post(forms::search::bulk))
        .route("/queues/{queue}/jobs/{state}", get(pages::jobs::jobs))
        .route("/queues/{queue}/jobs/{state}/bulk", post(forms::jobs::bulk))
        .route("/queues/{queue}/groups", get(pages::groups::groups))
        .route(
            "/queues/{queue}/groups/{fingerprint}/{action}",
            post(forms::jobs::group),
        )
        .route("/queues/{queue}/job/{id}", get(pages::job::job))
        .route(
            "/queues/{queue}/job/{id}/{action}",
            post(forms::jobs::one_job),
        )
        .route("/queues/{queue}/job/{id}/cancel", post(forms::jobs::cancel))
        .route(
            "/queues/{queue}/limits",
            get(pages::limits::limits).post(forms::limits::set),
        )
        .route("/queues/{queue}/limits/clear", post(forms::limits::clear))
        .route("/queues/{queue}/keys", get(pages::keys::keys))
        .route("/queues/{queue}/key-limits", post(forms::keys::set))
        .route("/queues/{queue}/key-limits/clear", post(forms::keys::clear))
        .route("/queues/{queue}/weights", post(forms::keys::set_weight))
        .route(
            "/queues/{queue}/weights/clear",
            post(forms::keys::clear_weight),
        )
        .route("/queues/{queue}/batches", get(pages::batches::batches))
        .route("/queues/{queue}/batches/{id}", get(pages::batches::batch))
        .route(
            "/queues/{queue}/batches/{id}/{action}",
            post(forms::batches::batch_action),
        )
        .route("/cron", get(pages::cron::cron))
        .route(
            "/cron/{queue}/{name}/{action}",
            post(forms::cron::entry_action),
        )
        .route("/workers", get(pages::workers::workers))
        .route("/workflows", get(pages::workflows::workflows))
        .route("/workflows/{id}", get(pages::workflows::workflow))
        .route("/workflows/{id}/graph", get(pages::workflows::graph))
        .route("/workflows/{id}/cancel", post(forms::workflows::cancel))
        .route(
            "/workflows/{id}/retry-from/{node}",
            post(forms::workflows::retry_from),
        )
        .route("/audit", get(pages::audit::audit));
    #[cfg(feature = "alerts")]
    let router = router.route("/alerts", get(pages::alerts::alerts));
    router.layer(axum::middleware::from_fn_with_state(
        state,
        error_page::html_errors,
    ))
}
