//! Alerts: rules evaluated by one leader among the dashboard processes,
//! firing to signed webhooks (Slack-compatible), deduplicated, rate-limited
//! and written to the audit log. See `docs/alerts.md`.
//!
//! - `config.rs`: [`AlertsConfig`], from a JSON file or the environment.
//! - `rules.rs`: what each rule kind reads and finds (bounded reads).
//! - `leader.rs`: the leader lease (`alert_lease.lua`).
//! - `evaluator.rs`: [`AlertEvaluator`], the loop that evaluates and fires.
//! - `webhook.rs`: the signed POST with timeout and retries.
//! - `overview.rs`: rules and sinks with their state, for the Alerts page,
//!   the API and the CLI.
//!
//! State lives in Redis under `P:{alerts}:…` (`jobqueue_core::admin::alerts`),
//! so a restart or a new leader neither forgets a cool-down nor fires an
//! old error as new.
//!
//! ```no_run
//! # async fn demo(client: jobqueue_core::Client) -> Result<(), jobqueue_dashboard::alerts::AlertError> {
//! use std::sync::Arc;
//! use jobqueue_dashboard::alerts::{AlertEvaluator, AlertsConfig};
//! use jobqueue_dashboard::{DashboardConfig, dashboard_router};
//!
//! if let Some(alerts) = AlertsConfig::from_env()? {
//!     let alerts = Arc::new(alerts);
//!     // Keep the handle: the evaluator stops when it is dropped.
//!     let _evaluator = AlertEvaluator::new(client.admin(), alerts.clone())?.spawn();
//!     let _router = dashboard_router(client.admin(), DashboardConfig::host_auth().alerts(alerts));
//! }
//! # Ok(()) }
//! ```

mod config;
mod evaluator;
mod leader;
mod overview;
mod rules;
mod webhook;

pub use config::{
    AlertRule, AlertsConfig, DEFAULT_ATTEMPTS, DEFAULT_COOLDOWN, DEFAULT_INTERVAL,
    DEFAULT_MAX_PER_MINUTE, DEFAULT_NEW_ERROR_SAMPLE, DEFAULT_TIMEOUT, ENV_SINK_NAME, QueueScope,
    RuleKind, WebhookSink,
};
pub use evaluator::{AUDIT_ACTOR, AlertEvaluator, AlertEvaluatorHandle, Delivery, DeliveryOutcome};
pub use overview::{AlertRuleView, AlertSinkView, AlertsOverview, alerts_overview};
pub use webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookBody, signature};

/// What can go wrong with alerts.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The configuration is invalid (the message names the rule or sink
    /// and the field).
    #[error("alert configuration: {0}")]
    Config(String),
    /// No rule of that name is configured.
    #[error("no alert rule is named {0:?}")]
    UnknownRule(String),
    /// Redis failed.
    #[error(transparent)]
    Redis(#[from] jobqueue_core::Error),
    /// A firing could not be prepared or its delivery task failed.
    #[error("alert delivery: {0}")]
    Delivery(String),
}
