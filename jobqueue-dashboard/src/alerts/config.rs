//! Alert configuration: the rules, the webhook sinks and the evaluation
//! interval, read from a JSON file (`JOBQUEUE_ALERTS_FILE`) and the
//! environment, and checked with errors that name the rule and field at
//! fault. `docs/alerts.md` has a full example.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use jobqueue_core::admin::MAX_NEW_ERROR_SAMPLE;

use crate::alerts::AlertError;

/// Default time between two evaluations.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
/// Default cool-down: a rule fires at most once per fingerprint in it.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(15 * 60);
/// Default most firings a sink is sent per minute.
pub const DEFAULT_MAX_PER_MINUTE: u32 = 10;
/// Default timeout of one webhook request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default tries of one webhook delivery (the first and the retries).
pub const DEFAULT_ATTEMPTS: u32 = 3;
/// Default dead jobs per queue a `new_error` rule reads each evaluation.
pub const DEFAULT_NEW_ERROR_SAMPLE: usize = 100;
/// Longest rule or sink name, in characters.
const MAX_NAME_CHARS: usize = 100;
/// The name of the sink `JOBQUEUE_ALERTS_WEBHOOK_URL` defines.
pub const ENV_SINK_NAME: &str = "webhook";

/// Which queues a rule watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueScope {
    /// Every known queue (`"*"`, or no `queue` given).
    All,
    /// One queue.
    One(String),
}

impl QueueScope {
    fn parse(queue: Option<String>) -> Self {
        match queue {
            None => Self::All,
            Some(q) if q == "*" => Self::All,
            Some(q) => Self::One(q),
        }
    }

    /// `all queues` or `queue <name>`.
    pub fn describe(&self) -> String {
        match self {
            Self::All => "all queues".to_owned(),
            Self::One(queue) => format!("queue {queue}"),
        }
    }
}

/// What a rule watches, and when it fires.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// Dead jobs grow faster than `per_minute` (averaged over `window`).
    DeadRate {
        /// The queue, or all of them together.
        queue: QueueScope,
        /// Deaths per minute above which it fires.
        per_minute: f64,
        /// The window the rate is measured over.
        window: Duration,
    },
    /// A queue's latency (age of its oldest ready job) is above `max`.
    LatencySlo {
        /// The queue, or each queue.
        queue: QueueScope,
        /// The service-level objective.
        max_latency: Duration,
    },
    /// A cron tick is more than `grace` overdue and no scheduler ran it.
    CronMissed {
        /// Only the entries of this name (else every entry).
        cron: Option<String>,
        /// Only the entries of this queue (else every queue).
        queue: Option<String>,
        /// How late a tick may be.
        grace: Duration,
    },
    /// A dead job's error fingerprint (job type + normalised message) is
    /// seen for the first time.
    NewError {
        /// The queue, or each queue.
        queue: QueueScope,
        /// Newest dead jobs per queue read each evaluation.
        sample: usize,
    },
}

impl RuleKind {
    /// `dead_rate`, `latency_slo`, `cron_missed` or `new_error`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::DeadRate { .. } => "dead_rate",
            Self::LatencySlo { .. } => "latency_slo",
            Self::CronMissed { .. } => "cron_missed",
            Self::NewError { .. } => "new_error",
        }
    }

    /// The condition in words.
    pub fn describe(&self) -> String {
        match self {
            Self::DeadRate {
                queue,
                per_minute,
                window,
            } => format!(
                "more than {per_minute} dead jobs per minute on {} over {}s",
                queue.describe(),
                window.as_secs_f64()
            ),
            Self::LatencySlo { queue, max_latency } => format!(
                "latency above {}s on {}",
                max_latency.as_secs_f64(),
                queue.describe()
            ),
            Self::CronMissed { cron, queue, grace } => format!(
                "cron {} on {} more than {}s late",
                cron.as_deref().unwrap_or("entries"),
                queue
                    .as_deref()
                    .map_or_else(|| "any queue".to_owned(), |q| format!("queue {q}")),
                grace.as_secs_f64()
            ),
            Self::NewError { queue, sample } => format!(
                "a new error among the newest {sample} dead jobs of {}",
                queue.describe()
            ),
        }
    }
}

/// One alert rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// Its name (unique; shown on the Alerts page and in each firing).
    pub name: String,
    /// What it watches.
    pub kind: RuleKind,
    /// It fires at most once per fingerprint within this.
    pub cooldown: Duration,
    /// The sinks it sends to (names; every sink when none were given).
    pub sinks: Vec<String>,
}

/// A webhook that receives firings as JSON.
#[derive(Clone)]
pub struct WebhookSink {
    /// Its name.
    pub name: String,
    /// Where firings are POSTed (`https://…` or `http://…`).
    pub url: reqwest::Url,
    /// The HMAC-SHA256 key of the `X-Jobqueue-Signature` header; without
    /// one, requests are not signed.
    pub(crate) secret: Option<String>,
    /// Most firings sent per minute (over every dashboard process);
    /// more are suppressed and counted.
    pub max_per_minute: u32,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Tries per delivery (retried with backoff on errors and 5xx/429).
    pub attempts: u32,
    /// A CA certificate (PEM) trusted for this sink besides the public
    /// roots: a receiver behind a private CA.
    pub(crate) extra_root: Option<reqwest::Certificate>,
}

impl std::fmt::Debug for WebhookSink {
    // The URL of an incoming webhook and the secret are credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("name", &self.name)
            .field("host", &self.url.host_str())
            .field("signed", &self.secret.is_some())
            .field("max_per_minute", &self.max_per_minute)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .field("extra_root", &self.extra_root.is_some())
            .finish()
    }
}

impl WebhookSink {
    /// Whether requests carry a signature.
    pub fn is_signed(&self) -> bool {
        self.secret.is_some()
    }
}

/// Everything the alert evaluator needs: rules, sinks, timing.
#[derive(Debug, Clone)]
pub struct AlertsConfig {
    /// Time between two evaluations.
    pub interval: Duration,
    /// The leader's lease: a stopped leader is replaced within it.
    pub lease: Duration,
    /// The rules.
    pub rules: Vec<AlertRule>,
    /// The sinks.
    pub sinks: Vec<WebhookSink>,
}

/// The file as written (every field optional, unknown ones refused).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    interval_secs: Option<f64>,
    lease_secs: Option<f64>,
    #[serde(default)]
    sinks: Vec<SinkFile>,
    #[serde(default)]
    rules: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SinkFile {
    name: String,
    url: String,
    secret: Option<String>,
    secret_env: Option<String>,
    max_per_minute: Option<u32>,
    timeout_secs: Option<f64>,
    attempts: Option<u32>,
    ca_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: String,
    kind: String,
    queue: Option<String>,
    cron: Option<String>,
    per_minute: Option<f64>,
    window_secs: Option<f64>,
    max_latency_secs: Option<f64>,
    grace_secs: Option<f64>,
    sample: Option<usize>,
    cooldown_secs: Option<f64>,
    sinks: Option<Vec<String>>,
}

fn invalid(message: impl Into<String>) -> AlertError {
    AlertError::Config(message.into())
}

/// `secs` as a duration: positive and finite.
fn seconds(secs: f64, what: &str) -> Result<Duration, AlertError> {
    if secs.is_finite() && secs > 0.0 && secs < 1e9 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(invalid(format!(
            "{what} must be a positive number of seconds, got {secs}"
        )))
    }
}

fn check_name(name: &str, what: &str) -> Result<(), AlertError> {
    if name.trim().is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(invalid(format!(
            "{what} name {name:?} must be 1 to {MAX_NAME_CHARS} characters without control characters"
        )));
    }
    Ok(())
}

impl SinkFile {
    fn build(self, env: &dyn Fn(&str) -> Option<String>) -> Result<WebhookSink, AlertError> {
        check_name(&self.name, "sink")?;
        let at = |field: &str| format!("sink {:?}: {field}", self.name);
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| invalid(format!("{}: not a URL ({e})", at("url"))))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(format!(
                "{} must be an http or https URL",
                at("url")
            )));
        }
        let secret = match (self.secret, self.secret_env) {
            (Some(_), Some(_)) => {
                return Err(invalid(format!(
                    "{} and secret_env: give one",
                    at("secret")
                )));
            }
            (Some(secret), None) => Some(secret),
            (None, Some(var)) => Some(env(&var).ok_or_else(|| {
                invalid(format!(
                    "{}: the variable {var} is not set",
                    at("secret_env")
                ))
            })?),
            (None, None) => None,
        };
        if secret.as_deref().is_some_and(str::is_empty) {
            return Err(invalid(format!("{} is empty", at("secret"))));
        }
        let max_per_minute = self.max_per_minute.unwrap_or(DEFAULT_MAX_PER_MINUTE);
        if max_per_minute == 0 {
            return Err(invalid(format!(
                "{} must be at least 1",
                at("max_per_minute")
            )));
        }
        let attempts = self.attempts.unwrap_or(DEFAULT_ATTEMPTS);
        if !(1..=10).contains(&attempts) {
            return Err(invalid(format!("{} must be 1 to 10", at("attempts"))));
        }
        let extra_root = match &self.ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| invalid(format!("{}: cannot read {path}: {e}", at("ca_file"))))?;
                Some(reqwest::Certificate::from_pem(&pem).map_err(|e| {
                    invalid(format!(
                        "{}: {path} is not a PEM certificate: {e}",
                        at("ca_file")
                    ))
                })?)
            }
            None => None,
        };
        Ok(WebhookSink {
            url,
            secret,
            extra_root,
            max_per_minute,
            timeout: self
                .timeout_secs
                .map_or(Ok(DEFAULT_TIMEOUT), |s| seconds(s, &at("timeout_secs")))?,
            attempts,
            name: self.name,
        })
    }
}

impl RuleFile {
    /// `rule "<name>" (<kind>): <field>`, how errors name a field.
    fn at(&self, field: &str) -> String {
        format!("rule {:?} ({}): {field}", self.name, self.kind)
    }

    fn required(&self, value: Option<f64>, field: &str) -> Result<f64, AlertError> {
        value.ok_or_else(|| invalid(format!("{} is required", self.at(field))))
    }

    fn build(self) -> Result<AlertRule, AlertError> {
        check_name(&self.name, "rule")?;
        if let Some(queue) = self.queue.as_deref().filter(|q| *q != "*") {
            jobqueue_core::store::keys::validate_queue_name(queue)
                .map_err(|e| invalid(format!("{}: {e}", self.at("queue"))))?;
        }
        let kind = self.kind()?;
        self.refuse_foreign_fields(&kind)?;
        Ok(AlertRule {
            cooldown: self.cooldown_secs.map_or(Ok(DEFAULT_COOLDOWN), |s| {
                seconds(s, &self.at("cooldown_secs"))
            })?,
            sinks: self.sinks.unwrap_or_default(),
            kind,
            name: self.name,
        })
    }

    fn kind(&self) -> Result<RuleKind, AlertError> {
        let queue = || QueueScope::parse(self.queue.clone());
        Ok(match self.kind.as_str() {
            "dead_rate" => {
                let per_minute = self.required(self.per_minute, "per_minute")?;
                if !(per_minute.is_finite() && per_minute >= 0.0) {
                    return Err(invalid(format!(
                        "{} must be 0 or more",
                        self.at("per_minute")
                    )));
                }
                RuleKind::DeadRate {
                    queue: queue(),
                    per_minute,
                    window: seconds(self.window_secs.unwrap_or(300.0), &self.at("window_secs"))?,
                }
            }
            "latency_slo" => RuleKind::LatencySlo {
                queue: queue(),
                max_latency: seconds(
                    self.required(self.max_latency_secs, "max_latency_secs")?,
                    &self.at("max_latency_secs"),
                )?,
            },
            "cron_missed" => RuleKind::CronMissed {
                cron: self.cron.clone().filter(|c| c != "*"),
                queue: self.queue.clone().filter(|q| q != "*"),
                grace: seconds(self.grace_secs.unwrap_or(60.0), &self.at("grace_secs"))?,
            },
            "new_error" => {
                let sample = self.sample.unwrap_or(DEFAULT_NEW_ERROR_SAMPLE);
                if !(1..=MAX_NEW_ERROR_SAMPLE).contains(&sample) {
                    return Err(invalid(format!(
                        "{} must be 1 to {MAX_NEW_ERROR_SAMPLE}",
                        self.at("sample")
                    )));
                }
                RuleKind::NewError {
                    queue: queue(),
                    sample,
                }
            }
            other => {
                return Err(invalid(format!(
                    "rule {:?}: unknown kind {other:?} (dead_rate, latency_slo, cron_missed or new_error)",
                    self.name
                )));
            }
        })
    }

    /// Refuses the fields of other kinds (a typo for another kind's rule).
    fn refuse_foreign_fields(&self, kind: &RuleKind) -> Result<(), AlertError> {
        let fields = [
            (self.per_minute.is_some(), "dead_rate", "per_minute"),
            (self.window_secs.is_some(), "dead_rate", "window_secs"),
            (
                self.max_latency_secs.is_some(),
                "latency_slo",
                "max_latency_secs",
            ),
            (self.cron.is_some(), "cron_missed", "cron"),
            (self.grace_secs.is_some(), "cron_missed", "grace_secs"),
            (self.sample.is_some(), "new_error", "sample"),
        ];
        match fields
            .iter()
            .find(|(present, owner, _)| *present && *owner != kind.name())
        {
            Some((_, _, field)) => Err(invalid(format!(
                "{} does not apply to this kind",
                self.at(field)
            ))),
            None => Ok(()),
        }
    }
}

impl AlertsConfig {
    /// Reads a JSON configuration (see `docs/alerts.md`); `secret_env`
    /// names are looked up in the process environment.
    pub fn from_json(text: &str) -> Result<Self, AlertError> {
        Self::from_json_with(text, &|name| std::env::var(name).ok())
    }

    fn from_json_with(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, AlertError> {
        let file: ConfigFile = serde_json::from_str(text)
            .map_err(|e| invalid(format!("not valid alert JSON: {e}")))?;
        Self::build(file, env)
    }

    /// Reads the JSON file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, AlertError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            invalid(format!(
                "cannot read the alert file {}: {e}",
                path.display()
            ))
        })?;
        Self::from_json(&text).map_err(|e| match e {
            AlertError::Config(message) => {
                invalid(format!("alert file {}: {message}", path.display()))
            }
            other => other,
        })
    }

    /// The configuration the environment gives, `None` when it sets no
    /// alert variable: `JOBQUEUE_ALERTS_FILE` (a JSON file),
    /// `JOBQUEUE_ALERTS_RULES` (a JSON array of rules, added to the
    /// file's), `JOBQUEUE_ALERTS_WEBHOOK_URL` and
    /// `JOBQUEUE_ALERTS_WEBHOOK_SECRET` (a sink named `webhook`),
    /// `JOBQUEUE_ALERTS_INTERVAL_SECS`.
    pub fn from_env() -> Result<Option<Self>, AlertError> {
        Self::from_vars(&|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    fn from_vars(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, AlertError> {
        let file = env("JOBQUEUE_ALERTS_FILE");
        let rules = env("JOBQUEUE_ALERTS_RULES");
        let url = env("JOBQUEUE_ALERTS_WEBHOOK_URL");
        if file.is_none() && rules.is_none() && url.is_none() {
            return Ok(None);
        }
        let mut config = match &file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| invalid(format!("cannot read the alert file {path}: {e}")))?;
                serde_json::from_str::<ConfigFile>(&text)
                    .map_err(|e| invalid(format!("alert file {path}: not valid alert JSON: {e}")))?
            }
            None => ConfigFile::default(),
        };
        if let Some(rules) = rules {
            let extra: Vec<RuleFile> = serde_json::from_str(&rules).map_err(|e| {
                invalid(format!(
                    "JOBQUEUE_ALERTS_RULES: not a JSON array of rules: {e}"
                ))
            })?;
            config.rules.extend(extra);
        }
        if let Some(url) = url {
            config.sinks.retain(|s| s.name != ENV_SINK_NAME);
            config.sinks.push(SinkFile {
                name: ENV_SINK_NAME.to_owned(),
                url,
                secret: env("JOBQUEUE_ALERTS_WEBHOOK_SECRET"),
                secret_env: None,
                max_per_minute: None,
                timeout_secs: None,
                attempts: None,
                ca_file: None,
            });
        }
        if let Some(interval) = env("JOBQUEUE_ALERTS_INTERVAL_SECS") {
            config.interval_secs = Some(interval.parse().map_err(|_| {
                invalid(format!(
                    "JOBQUEUE_ALERTS_INTERVAL_SECS: {interval:?} is not a number of seconds"
                ))
            })?);
        }
        Self::build(config, env).map(Some)
    }

    fn build(file: ConfigFile, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, AlertError> {
        let interval = file
            .interval_secs
            .map_or(Ok(DEFAULT_INTERVAL), |s| seconds(s, "interval_secs"))?;
        let lease = match file.lease_secs {
            Some(secs) => seconds(secs, "lease_secs")?,
            None => (interval * 3).max(Duration::from_secs(10)),
        };
        if lease <= interval {
            return Err(invalid(format!(
                "lease_secs ({}) must be longer than interval_secs ({}): the leader renews its lease once per interval",
                lease.as_secs_f64(),
                interval.as_secs_f64()
            )));
        }
        let sinks = file
            .sinks
            .into_iter()
            .map(|sink| sink.build(env))
            .collect::<Result<Vec<_>, _>>()?;
        let rules = file
            .rules
            .into_iter()
            .map(RuleFile::build)
            .collect::<Result<Vec<_>, _>>()?;
        let mut names = HashSet::new();
        for sink in &sinks {
            if !names.insert(&sink.name) {
                return Err(invalid(format!("two sinks are named {:?}", sink.name)));
            }
        }
        let mut rule_names = HashSet::new();
        for rule in &rules {
            if !rule_names.insert(&rule.name) {
                return Err(invalid(format!("two rules are named {:?}", rule.name)));
            }
            if let Some(unknown) = rule.sinks.iter().find(|s| !names.contains(s)) {
                return Err(invalid(format!(
                    "rule {:?}: no sink named {unknown:?}",
                    rule.name
                )));
            }
        }
        if !rules.is_empty() && sinks.is_empty() {
            return Err(invalid(
                "rules need a sink: add one to \"sinks\" or set JOBQUEUE_ALERTS_WEBHOOK_URL",
            ));
        }
        Ok(Self {
            interval,
            lease,
            rules,
            sinks,
        })
    }

    /// The rule named `name`.
    pub fn rule(&self, name: &str) -> Option<&AlertRule> {
        self.rules.iter().find(|rule| rule.name == name)
    }

    /// The sinks `rule` sends to.
    pub fn sinks_of<'a>(&'a self, rule: &'a AlertRule) -> impl Iterator<Item = &'a WebhookSink> {
        self.sinks
            .iter()
            .filter(|sink| rule.sinks.is_empty() || rule.sinks.contains(&sink.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    const SINK: &str = r#""sinks": [{"name": "ops", "url": "https://hooks.example.com/T1/B2", "secret": "s3cret"}]"#;

    fn parse(rules: &str) -> Result<AlertsConfig, AlertError> {
        AlertsConfig::from_json_with(&format!("{{{SINK}, \"rules\": [{rules}]}}"), &no_env)
    }

    #[test]
    fn reads_every_kind_with_defaults() {
        let config = parse(
            r#"{"name": "dead", "kind": "dead_rate", "per_minute": 5},
               {"name": "slow", "kind": "latency_slo", "queue": "emails", "max_latency_secs": 30},
               {"name": "cron", "kind": "cron_missed", "cron": "*"},
               {"name": "new", "kind": "new_error", "queue": "*", "cooldown_secs": 1}"#,
        )
        .unwrap();
        assert_eq!(config.interval, DEFAULT_INTERVAL);
        assert_eq!(config.lease, Duration::from_secs(45));
        assert_eq!(
            config.rules[0].kind,
            RuleKind::DeadRate {
                queue: QueueScope::All,
                per_minute: 5.0,
                window: Duration::from_secs(300)
            }
        );
        assert_eq!(
            config.rules[1].kind,
            RuleKind::LatencySlo {
                queue: QueueScope::One("emails".into()),
                max_latency: Duration::from_secs(30)
            }
        );
        assert_eq!(
            config.rules[2].kind,
            RuleKind::CronMissed {
                cron: None,
                queue: None,
                grace: Duration::from_secs(60)
            }
        );
        assert_eq!(config.rules[3].cooldown, Duration::from_secs(1));
        assert_eq!(config.sinks_of(&config.rules[0]).count(), 1);
        assert!(!format!("{:?}", config.sinks[0]).contains("s3cret"));
        assert!(!format!("{:?}", config.sinks[0]).contains("B2"));
    }

    #[test]
    fn refuses_mistakes_with_the_rule_and_field_named() {
        let message = |rules: &str| parse(rules).unwrap_err().to_string();
        assert!(
            message(r#"{"name": "a", "kind": "dead_rate"}"#)
                .contains("rule \"a\" (dead_rate): per_minute is required")
        );
        assert!(
            message(r#"{"name": "a", "kind": "latency"}"#).contains("unknown kind \"latency\"")
        );
        assert!(
            message(r#"{"name": "a", "kind": "latency_slo", "max_latency_secs": -1}"#)
                .contains("positive")
        );
        assert!(
            message(r#"{"name": "a", "kind": "new_error", "grace_secs": 3}"#)
                .contains("grace_secs does not apply")
        );
        assert!(
            message(r#"{"name": "a", "kind": "new_error", "sinks": ["nope"]}"#)
                .contains("no sink named \"nope\"")
        );
        assert!(
            message(r#"{"name": "a", "kind": "new_error"}, {"name": "a", "kind": "new_error"}"#)
                .contains("two rules")
        );
        assert!(
            message(r#"{"name": "a", "kind": "new_error", "colour": 1}"#).contains("unknown field")
        );
        assert!(message(r#"{"name": "", "kind": "new_error"}"#).contains("rule name"));
        assert!(
            message(r#"{"name": "a", "kind": "new_error", "queue": "a{b}"}"#)
                .contains("rule \"a\" (new_error): queue")
        );
        let no_sink = AlertsConfig::from_json_with(
            r#"{"rules": [{"name": "a", "kind": "new_error"}]}"#,
            &no_env,
        );
        assert!(
            no_sink
                .unwrap_err()
                .to_string()
                .contains("rules need a sink")
        );
        let short_lease =
            AlertsConfig::from_json_with(r#"{"interval_secs": 5, "lease_secs": 5}"#, &no_env);
        assert!(short_lease.unwrap_err().to_string().contains("lease_secs"));
        let bad_url = AlertsConfig::from_json_with(
            r#"{"sinks": [{"name": "x", "url": "ftp://h/x"}]}"#,
            &no_env,
        );
        assert!(bad_url.unwrap_err().to_string().contains("http or https"));
        let missing_ca = AlertsConfig::from_json_with(
            r#"{"sinks": [{"name": "x", "url": "https://h/x", "ca_file": "/nonexistent/ca.pem"}]}"#,
            &no_env,
        );
        assert!(
            missing_ca
                .unwrap_err()
                .to_string()
                .contains("sink \"x\": ca_file: cannot read")
        );
    }

    #[test]
    fn the_environment_gives_a_webhook_and_rules() {
        let env = |name: &str| match name {
            "JOBQUEUE_ALERTS_WEBHOOK_URL" => {
                Some("https://hooks.slack.com/services/T/B/X".to_owned())
            }
            "JOBQUEUE_ALERTS_WEBHOOK_SECRET" => Some("k".to_owned()),
            "JOBQUEUE_ALERTS_RULES" => {
                Some(r#"[{"name": "d", "kind": "dead_rate", "per_minute": 1}]"#.to_owned())
            }
            "JOBQUEUE_ALERTS_INTERVAL_SECS" => Some("0.5".to_owned()),
            _ => None,
        };
        let config = AlertsConfig::from_vars(&env).unwrap().unwrap();
        assert_eq!(config.sinks[0].name, ENV_SINK_NAME);
        assert!(config.sinks[0].is_signed());
        assert_eq!(config.interval, Duration::from_millis(500));
        assert_eq!(config.rules.len(), 1);
        assert!(AlertsConfig::from_vars(&no_env).unwrap().is_none());
        let secret_env = |name: &str| (name == "HOOK_KEY").then(|| "from-env".to_owned());
        let config = AlertsConfig::from_json_with(
            r#"{"sinks": [{"name": "x", "url": "http://127.0.0.1:1/x", "secret_env": "HOOK_KEY"}]}"#,
            &secret_env,
        )
        .unwrap();
        assert_eq!(config.sinks[0].secret.as_deref(), Some("from-env"));
    }
}
