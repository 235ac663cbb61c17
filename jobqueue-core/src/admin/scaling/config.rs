//! [`ScalingConfig`]: the scaling targets of every queue (defaults and
//! per-queue overrides) and the throughput window, parsed from one line of
//! text so that it fits an environment variable or a config file:
//!
//! ```text
//! * latency_target=30 lead_time=120 concurrency=10 min=0 max=20 default_throughput=1; mail latency_target=5 max=50
//! ```
//!
//! Entries are separated by `;`; each starts with a queue name (`*` for
//! the defaults every queue starts from), then `key=value` settings
//! separated by spaces or commas. Durations are seconds (fractions
//! allowed); `default_throughput` is jobs per slot-second; `window` (only
//! on `*`) is how long throughput is measured over.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::admin::scaling::formula::ScalingTargets;
use crate::error::Error;
use crate::store::keys::validate_queue_name;

/// Default window the throughput is measured over.
pub const DEFAULT_THROUGHPUT_WINDOW: Duration = Duration::from_secs(120);

/// Longest lead time, latency target or window accepted (a day).
const MAX_SECONDS: f64 = 86_400.0;

/// Scaling targets per queue and the throughput window.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingConfig {
    /// Targets of queues without their own entry.
    pub defaults: ScalingTargets,
    /// Targets of the queues named.
    pub queues: BTreeMap<String, ScalingTargets>,
    /// How long throughput is measured over.
    pub window: Duration,
}

impl Default for ScalingConfig {
    fn default() -> Self {
        Self {
            defaults: ScalingTargets::default(),
            queues: BTreeMap::new(),
            window: DEFAULT_THROUGHPUT_WINDOW,
        }
    }
}

impl ScalingConfig {
    /// The targets of `queue`.
    pub fn targets(&self, queue: &str) -> &ScalingTargets {
        self.queues.get(queue).unwrap_or(&self.defaults)
    }

    /// The longest lead time of any queue.
    pub fn longest_lead_time(&self) -> Duration {
        self.queues
            .values()
            .map(|t| t.lead_time)
            .fold(self.defaults.lead_time, Duration::max)
    }

    /// Parses the one-line format of the module docs. Per-queue entries
    /// start from the `*` entry wherever it stands.
    ///
    /// ```
    /// use jobqueue_core::admin::scaling::ScalingConfig;
    /// let config = ScalingConfig::parse("* max=10; mail latency_target=5 max=40").unwrap();
    /// assert_eq!(config.targets("mail").max_workers, 40);
    /// assert_eq!(config.targets("reports").max_workers, 10);
    /// assert!(ScalingConfig::parse("mail max=lots").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, Error> {
        let entries: Vec<(&str, Vec<&str>)> = text
            .split(';')
            .map(|entry| {
                let mut words = entry
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|w| !w.is_empty());
                (words.next().unwrap_or(""), words.collect())
            })
            .filter(|(queue, _)| !queue.is_empty())
            .collect();
        let mut config = Self::default();
        for (queue, settings) in entries.iter().filter(|(q, _)| *q == "*") {
            apply(
                &mut config.defaults,
                Some(&mut config.window),
                queue,
                settings,
            )?;
        }
        for (queue, settings) in entries.iter().filter(|(q, _)| *q != "*") {
            validate_queue_name(queue).map_err(|e| invalid(e.to_string()))?;
            if config.queues.contains_key(*queue) {
                return Err(invalid(format!("queue {queue:?} is given twice")));
            }
            let mut targets = config.defaults.clone();
            apply(&mut targets, None, queue, settings)?;
            config.queues.insert((*queue).to_owned(), targets);
        }
        Ok(config)
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidArgument {
        op: "scaling",
        message,
    }
}

/// Applies `settings` (`key=value` words) of `queue`'s entry.
fn apply(
    targets: &mut ScalingTargets,
    mut window: Option<&mut Duration>,
    queue: &str,
    settings: &[&str],
) -> Result<(), Error> {
    for setting in settings {
        let Some((key, value)) = setting.split_once('=') else {
            return Err(invalid(format!(
                "{queue}: expected key=value, got {setting:?}"
            )));
        };
        let number = value
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0);
        let Some(number) = number else {
            return Err(invalid(format!(
                "{queue}: {key} takes a number of 0 or more, got {value:?}"
            )));
        };
        let seconds = || {
            if number > 0.0 && number <= MAX_SECONDS {
                Ok(Duration::from_secs_f64(number))
            } else {
                Err(invalid(format!(
                    "{queue}: {key} takes seconds in (0, {MAX_SECONDS}], got {value:?}"
                )))
            }
        };
        let count = || {
            if number.fract() == 0.0 && number <= f64::from(u32::MAX) {
                Ok(number as u32)
            } else {
                Err(invalid(format!(
                    "{queue}: {key} takes a whole number, got {value:?}"
                )))
            }
        };
        match key {
            "latency_target" => targets.latency_target = seconds()?,
            "lead_time" => targets.lead_time = seconds()?,
            "concurrency" => targets.worker_concurrency = count()?.max(1),
            "min" => targets.min_workers = count()?,
            "max" => targets.max_workers = count()?,
            "default_throughput" if number > 0.0 => targets.default_jobs_per_slot_second = number,
            "default_throughput" => {
                return Err(invalid(format!(
                    "{queue}: default_throughput must be above 0"
                )));
            }
            "window" => match window.as_deref_mut() {
                Some(window) => *window = seconds()?,
                None => {
                    return Err(invalid(format!(
                        "{queue}: window is set on the * entry only"
                    )));
                }
            },
            other => {
                return Err(invalid(format!(
                    "{queue}: unknown setting {other:?} (latency_target, lead_time, \
                     concurrency, min, max, default_throughput, window)"
                )));
            }
        }
    }
    if targets.min_workers > targets.max_workers {
        return Err(invalid(format!(
            "{queue}: min ({}) is above max ({})",
            targets.min_workers, targets.max_workers
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_start_from_the_defaults_wherever_they_stand() {
        let config = ScalingConfig::parse(
            "mail:eu latency_target=2.5,max=40 ; * lead_time=300 concurrency=4 min=1 window=60",
        )
        .unwrap();
        let mail = config.targets("mail:eu");
        assert_eq!(mail.latency_target, Duration::from_millis(2500));
        assert_eq!(mail.lead_time, Duration::from_secs(300));
        assert_eq!(mail.worker_concurrency, 4);
        assert_eq!((mail.min_workers, mail.max_workers), (1, 40));
        assert_eq!(config.targets("other").max_workers, 20);
        assert_eq!(config.window, Duration::from_secs(60));
        assert_eq!(config.longest_lead_time(), Duration::from_secs(300));
        assert_eq!(ScalingConfig::parse("").unwrap(), ScalingConfig::default());
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        for (text, says) in [
            ("* max=-1", "number of 0 or more"),
            ("* max=1.5", "whole number"),
            ("* lead_time=0", "seconds in"),
            ("* min=5 max=2", "min (5) is above max (2)"),
            ("mail window=10", "only"),
            ("mail speed=3", "unknown setting"),
            ("mail max", "key=value"),
            ("bad/name max=1", "queue name"),
            ("mail max=1; mail max=2", "twice"),
            ("* default_throughput=0", "above 0"),
        ] {
            let err = ScalingConfig::parse(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
