//! # jobqueue-dashboard
//!
//! The operator's view of jobqueue: the web dashboard (HTML pages, a JSON
//! API under `/api/v1` with an OpenAPI document, Prometheus `/metrics`) and
//! the `jobqueue` command-line tool.
//!
//! The dashboard is one axum [`Router`](axum::Router) built by
//! [`dashboard_router`]: `jobqueue serve` serves it, and a web application
//! can nest it under its own path behind its own authentication (see
//! `docs/dashboard.md`). Both are thin layers over the operator API in
//! `jobqueue_core::admin`.
#![warn(missing_docs)]

pub mod format;
pub mod web;

pub use web::auth::HostUser;
pub use web::config::{Credential, DashboardConfig, Role};
pub use web::dashboard_router;
