//! # jobqueue-dashboard
//!
//! The operator's view of jobqueue, as a library: the web dashboard (HTML
//! pages), a JSON API under `/api/v1` with an OpenAPI document, and
//! Prometheus `/metrics`, all in one axum [`Router`](axum::Router) built by
//! [`dashboard_router`]. The `jobqueue serve` command of the `jobqueue-cli`
//! crate serves it; a web application can nest it under its own path,
//! behind its own authentication ([`DashboardConfig::host_auth`] and
//! [`HostUser`]) or with the dashboard's own browser sign-in (a `/login`
//! page and a session cookie, [`DashboardConfig::with_credentials`]); see
//! `docs/dashboard.md`. Both are thin layers over the operator API in
//! `jobqueue_core::admin`.
//!
//! ## What it adds to a build
//!
//! An HTTP/1 axum router and its middleware, `maud` for the server-rendered
//! pages (no JavaScript framework, no CDN: the CSS and script are embedded),
//! HMAC-SHA256 for the CSRF tokens, base64 for basic auth and the session
//! cookie, and `getrandom` for session ids. It does not pull in the
//! worker runtime, a command-line parser or a TLS library: TLS to Redis
//! (`rediss://`) is the `tls` feature, and alerts (an HTTP client with
//! rustls for HTTPS webhooks) the `alerts` feature, both off by default
//! here (the `jobqueue` CLI turns them on).
//!
//! ## Layout
//!
//! - [`dashboard_router`] (`router.rs`): the routes inside the middleware
//!   stack (`security/`: headers, the `Host` check, authentication and
//!   sign-in sessions, CSRF).
//! - `api/`: the JSON API, one file per thing it shows or changes.
//! - `ui/`: the HTML pages (`ui/pages/`) and the forms they post
//!   (`ui/forms/`, each handler a few lines behind one extractor), and the
//!   sign-in page (`ui/sign_in/`).
//! - [`actions`]: every state change, one file per thing an operator acts
//!   on; the API and the forms both call it, and the CLI shares its
//!   operator-API half.
//! - `snapshot.rs` (the cached overview), `scaling.rs` (the cached
//!   autoscaling signal, `docs/deployment.md`), `flow_waits.rs` (the cached
//!   per-key waits) and `metrics.rs` (`/metrics`).
//! - `alerts/` (feature `alerts`): alert rules, their leader-elected
//!   evaluator and webhook sinks (`docs/alerts.md`).
#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::too_many_lines)]
// Dev-dependencies are in scope for the unit tests too, so the check runs
// on the library build only.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod actions;
#[cfg(feature = "alerts")]
pub mod alerts;
mod api;
mod audit_log;
mod config;
mod error;
mod flow_waits;
pub mod format;
mod max_age_cache;
mod metrics;
mod params;
mod router;
mod scaling;
mod security;
mod snapshot;
mod state;
mod ui;
mod uniform_errors;
mod worker_page;
mod workflow_list;

pub use config::{Credential, DashboardConfig, Role};
pub use error::ApiError;
pub use router::dashboard_router;
pub use security::csrf::{CSRF_FIELD, CSRF_HEADER, MAX_FORM_BODY};
pub use security::principal::{HostUser, Principal, PrincipalSource};
