//! The alert evaluator: a task beside the dashboard's server that, every
//! interval, takes or renews the leader lease and, while it leads,
//! evaluates every rule and sends what fires.
//!
//! A finding fires through `alert_fire.lua` (deduplicated per rule and
//! fingerprint within the rule's cool-down, rate-limited per sink); each
//! firing is written to the audit log with how its deliveries went. The
//! deliveries of one evaluation run concurrently, each bounded by its
//! sink's timeout and attempts; none of it runs on a request's task, so
//! the dashboard answers as usual whatever a sink does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jobqueue_core::Admin;
use jobqueue_core::admin::{AuditEntry, SinkDecision};
use serde::Serialize;
use tokio::task::{JoinHandle, JoinSet};

use crate::alerts::AlertError;
use crate::alerts::config::{AlertRule, AlertsConfig, WebhookSink};
use crate::alerts::leader::LeaderLease;
use crate::alerts::rules::{Finding, findings};
use crate::alerts::webhook::{WebhookBody, deliver};

/// The audit log's actor for alert firings.
pub const AUDIT_ACTOR: &str = "alerts";

/// How a firing's delivery to one sink ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The sink answered 2xx.
    Sent {
        /// Tries it took.
        attempts: u32,
    },
    /// Every try failed, or the sink refused it.
    Failed {
        /// Tries made.
        attempts: u32,
        /// The last error.
        error: String,
    },
    /// The sink's rate limit was reached this minute: not sent, counted.
    Suppressed,
}

/// One firing's delivery to one sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The rule that fired.
    pub rule: String,
    /// What it fired about.
    pub fingerprint: String,
    /// The sink.
    pub sink: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: DeliveryOutcome,
}

/// What the firing tasks share.
#[derive(Debug)]
struct Shared {
    admin: Admin,
    config: Arc<AlertsConfig>,
    /// One HTTP client per sink (by name): each trusts its own extra CA.
    http: HashMap<String, reqwest::Client>,
}

/// Evaluates the alert rules while it holds the leader lease. Run one per
/// dashboard process ([`AlertEvaluator::spawn`]); only one evaluates.
#[derive(Debug, Clone)]
pub struct AlertEvaluator {
    shared: Arc<Shared>,
    lease: LeaderLease,
}

/// The running evaluator: stops when dropped or [`stop`](Self::stop)ped
/// (its lease then lapses and another dashboard takes over).
#[derive(Debug)]
#[must_use = "the evaluator stops when its handle is dropped"]
pub struct AlertEvaluatorHandle {
    task: JoinHandle<()>,
}

impl AlertEvaluatorHandle {
    /// Stops the evaluator.
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for AlertEvaluatorHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AlertEvaluator {
    /// An evaluator of `config`'s rules over `admin`'s Redis.
    pub fn new(admin: Admin, config: Arc<AlertsConfig>) -> Result<Self, AlertError> {
        let http = config
            .sinks
            .iter()
            .map(|sink| {
                // No redirects: a signed firing goes to the configured URL
                // or nowhere (a 3xx is a failed delivery).
                let mut builder = reqwest::Client::builder()
                    .user_agent(concat!("jobqueue-alerts/", env!("CARGO_PKG_VERSION")))
                    .redirect(reqwest::redirect::Policy::none());
                if let Some(root) = &sink.extra_root {
                    builder = builder.add_root_certificate(root.clone());
                }
                builder
                    .build()
                    .map(|client| (sink.name.clone(), client))
                    .map_err(|e| {
                        AlertError::Config(format!(
                            "sink {:?}: cannot build its HTTP client: {e}",
                            sink.name
                        ))
                    })
            })
            .collect::<Result<HashMap<_, _>, _>>()?;
        Ok(Self {
            lease: LeaderLease::new(config.lease),
            shared: Arc::new(Shared {
                admin,
                config,
                http,
            }),
        })
    }

    /// This evaluator's id in the leader lease.
    pub fn holder_id(&self) -> &str {
        self.lease.holder()
    }

    /// Runs [`AlertEvaluator::run`] on a task of its own.
    pub fn spawn(self) -> AlertEvaluatorHandle {
        AlertEvaluatorHandle {
            task: tokio::spawn(self.run()),
        }
    }

    /// Every interval: [`AlertEvaluator::evaluate_if_leader`]; errors
    /// (Redis down) are logged and the next interval tries again.
    pub async fn run(self) {
        let mut ticker = tokio::time::interval(self.shared.config.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = self.evaluate_if_leader().await {
                tracing::warn!(error = %err, "alert evaluation failed");
            }
        }
    }

    /// Takes or renews the lease and, when it leads, evaluates every rule
    /// and delivers what fires. `None` when another evaluator leads.
    pub async fn evaluate_if_leader(&self) -> Result<Option<Vec<Delivery>>, AlertError> {
        if !self.lease.hold(&self.shared.admin).await? {
            return Ok(None);
        }
        Ok(Some(self.evaluate().await))
    }

    /// Evaluates every rule (a rule whose reads fail is logged and
    /// skipped) and delivers what fires, concurrently.
    async fn evaluate(&self) -> Vec<Delivery> {
        let mut firings = JoinSet::new();
        for (index, rule) in self.shared.config.rules.iter().enumerate() {
            let found = match findings(&self.shared.admin, rule).await {
                Ok(found) => found,
                Err(err) => {
                    tracing::warn!(rule = %rule.name, error = %err, "alert rule could not be evaluated");
                    continue;
                }
            };
            if let Err(err) = self
                .shared
                .admin
                .record_alert_check(&rule.name, found.len() as u64)
                .await
            {
                tracing::warn!(rule = %rule.name, error = %err, "could not record an alert check");
            }
            for finding in found {
                let shared = self.shared.clone();
                firings.spawn(async move {
                    let rule = &shared.config.rules[index];
                    fire(&shared, rule, &finding, false).await
                });
            }
        }
        let mut deliveries = Vec::new();
        while let Some(joined) = firings.join_next().await {
            match joined {
                Ok(Ok(mut some)) => deliveries.append(&mut some),
                Ok(Err(err)) => tracing::warn!(error = %err, "an alert could not fire"),
                Err(err) => tracing::warn!(error = %err, "an alert firing task failed"),
            }
        }
        deliveries
    }

    /// Sends a test firing of `rule` to its sinks now (not deduplicated;
    /// rate-limited and audited like any firing), whoever leads.
    pub async fn send_test(&self, rule: &str) -> Result<Vec<Delivery>, AlertError> {
        let rule = self
            .shared
            .config
            .rule(rule)
            .ok_or_else(|| AlertError::UnknownRule(rule.to_owned()))?;
        let finding = Finding {
            fingerprint: "test".to_owned(),
            message: format!(
                "test firing of rule {} ({})",
                rule.name,
                rule.kind.describe()
            ),
        };
        fire(&self.shared, rule, &finding, true).await
    }
}

/// Fires `finding` of `rule`: dedup and rate limits in Redis, then one
/// delivery per sink allowed, then the audit entry and the rule's last
/// delivery.
async fn fire(
    shared: &Shared,
    rule: &AlertRule,
    finding: &Finding,
    test: bool,
) -> Result<Vec<Delivery>, AlertError> {
    let sinks: Vec<&WebhookSink> = shared.config.sinks_of(rule).collect();
    let limits: Vec<(&str, u32)> = sinks
        .iter()
        .map(|sink| (sink.name.as_str(), sink.max_per_minute))
        .collect();
    let cooldown = if test { Duration::ZERO } else { rule.cooldown };
    let Some(decisions) = shared
        .admin
        .alert_fire(
            &rule.name,
            &finding.fingerprint,
            &finding.message,
            cooldown,
            &limits,
        )
        .await?
    else {
        return Ok(Vec::new());
    };
    let deliveries = deliver_all(shared, rule, finding, test, &sinks, &decisions).await?;
    record(shared, rule, finding, test, &deliveries).await;
    Ok(deliveries)
}

/// Sends the firing to each sink its decision lets through, concurrently.
async fn deliver_all(
    shared: &Shared,
    rule: &AlertRule,
    finding: &Finding,
    test: bool,
    sinks: &[&WebhookSink],
    decisions: &[SinkDecision],
) -> Result<Vec<Delivery>, AlertError> {
    let delivery = |sink: String, outcome| Delivery {
        rule: rule.name.clone(),
        fingerprint: finding.fingerprint.clone(),
        sink,
        outcome,
    };
    let fired_at = chrono::Utc::now().to_rfc3339();
    let mut sends = JoinSet::new();
    let mut deliveries = Vec::new();
    for (sink, decision) in sinks.iter().zip(decisions) {
        if !decision.send {
            deliveries.push(delivery(sink.name.clone(), DeliveryOutcome::Suppressed));
            continue;
        }
        let body = serde_json::to_vec(&WebhookBody {
            text: text_line(rule, finding, test, decision.suppressed_before),
            rule: &rule.name,
            kind: rule.kind.name(),
            fingerprint: &finding.fingerprint,
            message: &finding.message,
            fired_at: fired_at.clone(),
            prefix: shared.admin.store().keys().prefix(),
            test,
            suppressed_before: decision.suppressed_before,
        })
        .map_err(|e| AlertError::Delivery(format!("cannot encode a firing: {e}")))?;
        let Some(http) = shared.http.get(&sink.name).cloned() else {
            deliveries.push(delivery(
                sink.name.clone(),
                DeliveryOutcome::Failed {
                    attempts: 0,
                    error: "no HTTP client for this sink".to_owned(),
                },
            ));
            continue;
        };
        let sink = (*sink).clone();
        sends.spawn(async move {
            let outcome = match deliver(&http, &sink, &body).await {
                Ok(attempts) => DeliveryOutcome::Sent { attempts },
                Err(failure) => DeliveryOutcome::Failed {
                    attempts: failure.attempts,
                    error: failure.message,
                },
            };
            (sink.name, outcome)
        });
    }
    while let Some(joined) = sends.join_next().await {
        let (sink, outcome) =
            joined.map_err(|e| AlertError::Delivery(format!("delivery task: {e}")))?;
        deliveries.push(delivery(sink, outcome));
    }
    Ok(deliveries)
}

/// Records how the firing's deliveries went: on the rule, in the audit
/// log, and in the log for failures.
async fn record(
    shared: &Shared,
    rule: &AlertRule,
    finding: &Finding,
    test: bool,
    deliveries: &[Delivery],
) {
    let summary = delivery_summary(deliveries);
    if let Err(err) = shared
        .admin
        .record_alert_delivery(&rule.name, &summary)
        .await
    {
        tracing::warn!(rule = %rule.name, error = %err, "could not record an alert delivery");
    }
    let entry = AuditEntry::now(
        AUDIT_ACTOR,
        if test { "alert_test" } else { "alert_fired" },
        &format!("{}: {} [{summary}]", rule.name, finding.message),
        1,
    );
    if let Err(err) = shared.admin.record_audit(&entry).await {
        tracing::warn!(rule = %rule.name, error = %err, "could not write an alert to the audit log");
    }
    for delivery in deliveries {
        if let DeliveryOutcome::Failed { error, .. } = &delivery.outcome {
            tracing::warn!(rule = %rule.name, sink = %delivery.sink, %error, "alert not delivered");
        }
    }
}

/// The `text` field: what a chat shows.
fn text_line(rule: &AlertRule, finding: &Finding, test: bool, suppressed_before: u64) -> String {
    let mut text = format!(
        "{}[jobqueue] {}: {}",
        if test { "[test] " } else { "" },
        rule.name,
        finding.message
    );
    if suppressed_before > 0 {
        text.push_str(&format!(
            " ({suppressed_before} earlier alerts suppressed by the rate limit)"
        ));
    }
    text
}

/// `ops: sent; pager: suppressed` — how each sink's delivery went.
fn delivery_summary(deliveries: &[Delivery]) -> String {
    if deliveries.is_empty() {
        return "no sink".to_owned();
    }
    deliveries
        .iter()
        .map(|d| {
            let outcome = match &d.outcome {
                DeliveryOutcome::Sent { .. } => "sent".to_owned(),
                DeliveryOutcome::Suppressed => "suppressed".to_owned(),
                DeliveryOutcome::Failed { error, .. } => format!("failed: {error}"),
            };
            format!("{}: {outcome}", d.sink)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
