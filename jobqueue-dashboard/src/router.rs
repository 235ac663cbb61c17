//! The dashboard as one axum [`Router`]: the HTML pages, the JSON API under
//! `/api/v1` and `/metrics`, inside the middleware every request passes.

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use jobqueue_core::Admin;

use crate::config::DashboardConfig;
use crate::error::ApiError;
use crate::flow_waits::FlowWaitsCache;
use crate::scaling::ScalingCache;
use crate::security::csrf_tokens::CsrfTokens;
use crate::security::header_throttle::HeaderThrottle;
use crate::security::{auth, csrf, headers, host_check};
use crate::snapshot::SnapshotCache;
use crate::state::AppState;
use crate::{api, metrics, ui, uniform_errors};

/// The whole dashboard as a router, ready to serve or to nest.
///
/// Every route (pages, `/api/v1/...`, `/metrics`) goes through the
/// dashboard's authentication, security headers and, for state changes,
/// role and CSRF checks; `/login` and `/logout` (browser sign-in, with
/// credentials configured) and the stylesheet and script do their own
/// checks or need none. To mount it inside your own axum app, whatever its
/// state type, use `nest_service` and tell it where (so its links and
/// cookies point there):
///
/// ```no_run
/// use axum::{Router, extract::Request, middleware::{self, Next}, response::Response};
/// use jobqueue_dashboard::{DashboardConfig, HostUser, Role, dashboard_router};
///
/// // Your app's own authentication; it tells the dashboard who the user is
/// // (for the audit log) and what they may do.
/// async fn admins_only(mut request: Request, next: Next) -> Response {
///     request.extensions_mut().insert(HostUser { name: "ada".into(), role: Role::Operator });
///     next.run(request).await
/// }
///
/// #[derive(Clone)]
/// struct AppState;
///
/// # async fn demo(client: jobqueue_core::Client) {
/// let dashboard = dashboard_router(
///     client.admin(),
///     // Requests without a HostUser are refused (pages: sent to /login).
///     DashboardConfig::host_auth().host_login_url("/login").base_path("/admin/jobs"),
/// );
/// let app: Router = Router::<AppState>::new()
///     .nest_service("/admin/jobs", dashboard)
///     .layer(middleware::from_fn(admins_only))
///     .with_state(AppState);
/// # }
/// ```
pub fn dashboard_router(admin: Admin, config: DashboardConfig) -> Router {
    let state = Arc::new(AppState {
        admin,
        snapshot: SnapshotCache::new(config.snapshot_max_age),
        scaling: ScalingCache::new(config.scaling.clone(), config.snapshot_max_age),
        flow_waits: FlowWaitsCache::new(config.snapshot_max_age),
        csrf: CsrfTokens::new(config.csrf_secret.as_deref()),
        header_throttle: HeaderThrottle::default(),
        event_readers: Arc::new(tokio::sync::Semaphore::new(api::MAX_EVENT_READERS)),
        config,
    });
    // Layers run outside in: headers on every answer, one JSON error shape
    // (and the URI length limit), the Host check (nothing is read for a
    // rebound name), authentication (and auditing of refusals), then the
    // CSRF checks of state changes.
    Router::new()
        .merge(ui::routes(state.clone()))
        .nest("/api/v1", api::routes())
        .route("/metrics", get(metrics::metrics))
        .fallback(|| async { ApiError::not_found("no such page") })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::guard_state_changes,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        // Signing in and out: outside authentication (nobody is signed in
        // yet), with checks of their own (`ui/sign_in/`).
        .merge(ui::sign_in::routes())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            host_check::check_host,
        ))
        .layer(middleware::from_fn(uniform_errors::uniform_errors))
        .layer(middleware::from_fn(headers::add_security_headers))
        .with_state(state)
}
