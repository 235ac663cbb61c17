//! The dashboard as an axum [`Router`]: HTML pages, the JSON API under
//! `/api/v1`, and `/metrics`.

pub(crate) mod actions;
pub(crate) mod api;
pub(crate) mod auth;
pub mod config;
pub mod csrf;
pub mod error;
pub(crate) mod headers;
pub(crate) mod metrics;
pub(crate) mod params;
pub(crate) mod snapshot;
mod state;
mod ui;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use jobqueue_core::Admin;

use config::DashboardConfig;
use snapshot::SnapshotCache;
use state::AppState;

/// The whole dashboard as a router, ready to serve or to nest.
///
/// Every route (pages, assets, `/api/v1/...`, `/metrics`) goes through the
/// dashboard's authentication, security headers and, for state changes,
/// role and CSRF checks. To mount it inside your own axum app, nest it and
/// tell it where (so its links point there):
///
/// ```no_run
/// use jobqueue_dashboard::{DashboardConfig, Role, dashboard_router};
/// # async fn demo(client: jobqueue_core::Client) {
/// let dashboard = dashboard_router(
///     client.admin(),
///     // Your app's own middleware authenticates before this router runs.
///     DashboardConfig::behind_host_auth(Role::Operator).base_path("/admin/jobs"),
/// );
/// let app: axum::Router = axum::Router::new().nest("/admin/jobs", dashboard);
/// # }
/// ```
pub fn dashboard_router(admin: Admin, config: DashboardConfig) -> Router {
    let state = Arc::new(AppState {
        admin,
        snapshot: SnapshotCache::new(config.snapshot_max_age),
        csrf_token: csrf::new_token(),
        config,
    });
    Router::new()
        .merge(ui::routes())
        .nest("/api/v1", api::routes())
        .route("/metrics", get(metrics::metrics))
        .fallback(|| async { error::ApiError::not_found("no such page") })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(middleware::from_fn(headers::add_security_headers))
        .with_state(state)
}
