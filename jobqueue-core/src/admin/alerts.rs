//! Alert state in Redis, for the dashboard's alert evaluator, its Alerts
//! page and API, and `jobqueue alerts`: the leader lease, firing with
//! deduplication and per-sink rate limits (`alert_fire.lua`), each rule's
//! status and last firing, and the error fingerprints a `new_error` rule
//! has seen. All under `P:{alerts}:…` (see `docs/alerts.md`).
//!
//! The rules themselves (what to watch, where to send) are configuration
//! of the dashboard (`jobqueue_dashboard::alerts`); this module keeps what
//! must survive a restart or a change of leader.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::admin::handle::Admin;
use crate::admin::jobs::millis_to_datetime;
use crate::error::Error;
pub use crate::store::ops::alert_fire::SinkDecision;

/// Most error fingerprints a `new_error` rule remembers (the least
/// recently seen are forgotten first).
pub const MAX_SEEN_ERRORS: usize = 10_000;

/// A rule's state as the last evaluations left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRuleState {
    /// `ok`, `firing`, or `None` when the rule was never checked.
    pub status: Option<String>,
    /// When the rule was last checked.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub checked_at: Option<DateTime<Utc>>,
    /// Fingerprints its condition held for at the last check.
    pub findings: u64,
    /// When it last fired (passed deduplication).
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub last_fired_at: Option<DateTime<Utc>>,
    /// The fingerprint of its last firing.
    pub last_fingerprint: Option<String>,
    /// The message of its last firing.
    pub last_message: Option<String>,
    /// Firings, all time (within its state's 30-day life).
    pub fired: u64,
    /// Findings dropped by the cool-down of an earlier firing.
    pub deduped: u64,
    /// Firings a sink's rate limit did not send.
    pub suppressed: u64,
    /// How the last delivery went (`sent to <sink>`, `failed: …`).
    pub last_delivery: Option<String>,
    /// When the last delivery ended.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub delivered_at: Option<DateTime<Utc>>,
}

impl AlertRuleState {
    fn from_fields(mut fields: HashMap<String, String>) -> Self {
        let number = |name: &str| {
            fields
                .get(name)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let (findings, fired, deduped, suppressed) = (
            number("findings"),
            number("fired"),
            number("deduped"),
            number("suppressed"),
        );
        let mut time = |name: &str| {
            fields
                .remove(name)
                .and_then(|v| v.parse::<i64>().ok())
                .and_then(millis_to_datetime)
        };
        let (checked_at, last_fired_at, delivered_at) =
            (time("checked"), time("last_fired"), time("delivered"));
        Self {
            status: fields.remove("status"),
            checked_at,
            findings,
            last_fired_at,
            last_fingerprint: fields.remove("last_fingerprint"),
            last_message: fields.remove("last_message"),
            fired,
            deduped,
            suppressed,
            last_delivery: fields.remove("last_delivery"),
            delivered_at,
        }
    }
}

/// A sink's rate-limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AlertSinkState {
    /// Firings sent in the current minute.
    pub sent_this_minute: u64,
    /// Firings suppressed since the last one sent (reported with the next).
    pub pending_suppressed: u64,
    /// Firings suppressed by the rate limit (kept a day after the last).
    pub suppressed_total: u64,
}

impl Admin {
    /// Takes or renews the alert evaluators' leader lease for `holder`
    /// (`alert_lease.lua`); true when `holder` leads for `lease` from now.
    pub async fn alert_lease(&self, holder: &str, lease: Duration) -> Result<bool, Error> {
        let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
        self.store.alert_lease(holder, lease_ms).await
    }

    /// Who leads the alert evaluators, and for how much longer.
    pub async fn alerts_leader(&self) -> Result<Option<(String, Duration)>, Error> {
        Ok(self.store.alerts_leader().await?.map(|(holder, ttl_ms)| {
            (
                holder,
                Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
            )
        }))
    }

    /// `rule` fires for `fingerprint` with `message` unless it did within
    /// `cooldown` (zero: never deduplicated): `None` when deduplicated,
    /// else per sink of `sinks` (name, most sent per minute) whether to
    /// send it (`alert_fire.lua`).
    pub async fn alert_fire(
        &self,
        rule: &str,
        fingerprint: &str,
        message: &str,
        cooldown: Duration,
        sinks: &[(&str, u32)],
    ) -> Result<Option<Vec<SinkDecision>>, Error> {
        let cooldown_ms = u64::try_from(cooldown.as_millis()).unwrap_or(u64::MAX);
        self.store
            .alert_fire(rule, fingerprint, message, cooldown_ms, sinks)
            .await
    }

    /// Records a check of `rule`: `firing` for `findings` fingerprints, or
    /// ok when 0.
    pub async fn record_alert_check(&self, rule: &str, findings: u64) -> Result<(), Error> {
        let now_ms = self.store.redis_time_ms().await?;
        self.store
            .alert_rule_check(rule, findings > 0, findings, now_ms)
            .await
    }

    /// Records how the delivery of `rule`'s latest firing went.
    pub async fn record_alert_delivery(&self, rule: &str, outcome: &str) -> Result<(), Error> {
        let now_ms = self.store.redis_time_ms().await?;
        self.store.alert_delivery(rule, outcome, now_ms).await
    }

    /// The state of each of `rules`, in order, in one round trip.
    pub async fn alert_rule_states(&self, rules: &[&str]) -> Result<Vec<AlertRuleState>, Error> {
        Ok(self
            .store
            .alert_rule_states(rules)
            .await?
            .into_iter()
            .map(AlertRuleState::from_fields)
            .collect())
    }

    /// The rate-limit counts of each of `sinks`, in order.
    pub async fn alert_sink_states(&self, sinks: &[&str]) -> Result<Vec<AlertSinkState>, Error> {
        Ok(self
            .store
            .alert_sink_states(sinks)
            .await?
            .into_iter()
            .map(|fields| {
                let number = |name: &str| {
                    fields
                        .get(name)
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                AlertSinkState {
                    sent_this_minute: number("sent"),
                    pending_suppressed: number("pending"),
                    suppressed_total: number("suppressed_total"),
                }
            })
            .collect())
    }

    /// Which of `fingerprints` `rule` sees for the first time, remembering
    /// them all (at most [`MAX_SEEN_ERRORS`], in Redis, so a restart or
    /// another dashboard does not see them as new again). The rule's first
    /// look only records: errors that existed before the rule did are not
    /// new.
    pub async fn first_seen_errors(
        &self,
        rule: &str,
        fingerprints: &[String],
    ) -> Result<Vec<bool>, Error> {
        let first_look = self.store.alert_first_look(rule).await?;
        let now_ms = self.store.redis_time_ms().await?;
        let new = self
            .store
            .alert_seen_add(rule, fingerprints, now_ms, MAX_SEEN_ERRORS)
            .await?;
        Ok(if first_look {
            vec![false; new.len()]
        } else {
            new
        })
    }
}
