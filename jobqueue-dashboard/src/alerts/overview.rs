//! What the Alerts page, `GET /api/v1/alerts` and `jobqueue alerts list`
//! show: each rule with its state in Redis, each sink with its rate-limit
//! counts (its host only: a webhook's URL is a credential), and the leader.

use jobqueue_core::admin::{AlertRuleState, AlertSinkState};
use jobqueue_core::{Admin, Error};
use serde::Serialize;

use crate::alerts::config::AlertsConfig;

/// A rule and its state.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRuleView {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: &'static str,
    /// Its condition, in words.
    pub condition: String,
    /// Its cool-down, seconds.
    pub cooldown_secs: f64,
    /// The sinks it sends to.
    pub sinks: Vec<String>,
    /// Its state.
    #[serde(flatten)]
    pub state: AlertRuleState,
}

/// A sink and its counts.
#[derive(Debug, Clone, Serialize)]
pub struct AlertSinkView {
    /// Its name.
    pub name: String,
    /// The host its URL points at.
    pub host: String,
    /// Whether requests are signed.
    pub signed: bool,
    /// Its rate limit.
    pub max_per_minute: u32,
    /// Its counts.
    #[serde(flatten)]
    pub state: AlertSinkState,
}

/// Alerts as a whole.
#[derive(Debug, Clone, Serialize)]
pub struct AlertsOverview {
    /// Whether this process has alert rules configured.
    pub configured: bool,
    /// Seconds between evaluations.
    pub interval_secs: f64,
    /// The evaluator leading now (its id), if any.
    pub leader: Option<String>,
    /// Seconds left on the leader's lease.
    pub leader_lease_secs: Option<f64>,
    /// The rules.
    pub rules: Vec<AlertRuleView>,
    /// The sinks.
    pub sinks: Vec<AlertSinkView>,
}

/// Reads the state of `config`'s rules and sinks (one round trip each)
/// and the leader.
pub async fn alerts_overview(
    admin: &Admin,
    config: Option<&AlertsConfig>,
) -> Result<AlertsOverview, Error> {
    let leader = admin.alerts_leader().await?;
    let (leader, leader_lease_secs) = match leader {
        Some((holder, left)) => (Some(holder), Some(left.as_secs_f64())),
        None => (None, None),
    };
    let Some(config) = config else {
        return Ok(AlertsOverview {
            configured: false,
            interval_secs: 0.0,
            leader,
            leader_lease_secs,
            rules: Vec::new(),
            sinks: Vec::new(),
        });
    };
    let rule_names: Vec<&str> = config.rules.iter().map(|r| r.name.as_str()).collect();
    let sink_names: Vec<&str> = config.sinks.iter().map(|s| s.name.as_str()).collect();
    let rule_states = admin.alert_rule_states(&rule_names).await?;
    let sink_states = admin.alert_sink_states(&sink_names).await?;
    Ok(AlertsOverview {
        configured: true,
        interval_secs: config.interval.as_secs_f64(),
        leader,
        leader_lease_secs,
        rules: config
            .rules
            .iter()
            .zip(rule_states)
            .map(|(rule, state)| AlertRuleView {
                name: rule.name.clone(),
                kind: rule.kind.name(),
                condition: rule.kind.describe(),
                cooldown_secs: rule.cooldown.as_secs_f64(),
                sinks: config.sinks_of(rule).map(|s| s.name.clone()).collect(),
                state,
            })
            .collect(),
        sinks: config
            .sinks
            .iter()
            .zip(sink_states)
            .map(|(sink, state)| AlertSinkView {
                name: sink.name.clone(),
                host: sink.url.host_str().unwrap_or_default().to_owned(),
                signed: sink.is_signed(),
                max_per_minute: sink.max_per_minute,
                state,
            })
            .collect(),
    })
}
