//! Actions on a queue's flow limits (set, clear), and how limits are
//! shown and taken: [`LimitsView`] (the API's JSON, the pages, the CLI),
//! rates written `100/1s` (`100/1s strict` for a sliding window). The operator API call ([`apply_limits`]) is
//! shared with the `jobqueue queues limits` command.

use std::time::Duration;

use jobqueue_core::{Admin, QueueLimits, RateLimit, RateMode};
use serde::{Deserialize, Serialize};

use crate::audit_log;
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

/// A queue's flow limits as the API, pages and CLI show and take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsView {
    /// Most jobs of the queue running at once, across all workers.
    #[serde(default)]
    pub max_running: Option<u32>,
    /// Most job starts per period, across all workers.
    #[serde(default)]
    pub rate: Option<RateView>,
}

/// A rate limit: `limit` starts per `per_ms` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateView {
    /// Job starts per period.
    pub limit: u32,
    /// The period, ms.
    pub per_ms: u64,
    /// `"bucket"` (default: token bucket, bursts up to `limit`) or
    /// `"strict"` (sliding window: never more than `limit` in any period).
    #[serde(default)]
    pub mode: RateMode,
}

impl RateView {
    /// `100/1s`, or `100/1s strict`: how forms and the CLI write it.
    pub fn text(&self) -> String {
        let strict = if self.mode == RateMode::Strict {
            " strict"
        } else {
            ""
        };
        format!("{}/{}{strict}", self.limit, format_period(self.per_ms))
    }

    /// `100 per 1s`, or `100 per 1s (strict)`.
    pub fn describe(&self) -> String {
        let strict = if self.mode == RateMode::Strict {
            " (strict)"
        } else {
            ""
        };
        format!("{} per {}{strict}", self.limit, format_period(self.per_ms))
    }
}

impl From<QueueLimits> for LimitsView {
    fn from(limits: QueueLimits) -> Self {
        Self {
            max_running: limits.max_running,
            rate: limits.rate.map(|r| RateView {
                limit: r.limit,
                per_ms: u64::try_from(r.per.as_millis()).unwrap_or(u64::MAX),
                mode: r.mode,
            }),
        }
    }
}

impl From<LimitsView> for QueueLimits {
    fn from(view: LimitsView) -> Self {
        Self {
            max_running: view.max_running,
            rate: view.rate.map(|r| RateLimit {
                limit: r.limit,
                per: Duration::from_millis(r.per_ms),
                mode: r.mode,
            }),
        }
    }
}

impl LimitsView {
    /// The audit-log target of a limits change: `queue <description>`.
    pub fn audit_target(&self, queue: &str) -> String {
        format!("{queue} {}", self.describe())
    }

    /// `at most 20 running · 100 per 1s`, or `none`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(max) = self.max_running {
            parts.push(format!("at most {max} running"));
        }
        if let Some(rate) = self.rate {
            parts.push(rate.describe());
        }
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(" · ")
        }
    }
}

/// `1s`, `500ms`, `2m`, `1h`: the shortest exact spelling of a period.
pub fn format_period(ms: u64) -> String {
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// Parses a rate `100/1s` (also `100/500ms`, `10/2m`, `5/1h`; `100/s` is
/// `100/1s`) as (limit, period ms); a trailing ` strict` asks for the
/// sliding window ([`RateMode::Strict`]), ` bucket` for the token bucket
/// (the default).
pub fn parse_rate(text: &str) -> Result<RateView, String> {
    let bad = || {
        format!(
            "{text:?} is not a rate: write it like 100/1s, 20/500ms or 5/1m, \
             followed by \" strict\" for a sliding window"
        )
    };
    let trimmed = text.trim();
    let (trimmed, mode) = match trimmed
        .rsplit_once(char::is_whitespace)
        .and_then(|(rate, word)| Some((rate, word.parse::<RateMode>().ok()?)))
    {
        Some((rate, mode)) => (rate.trim_end(), mode),
        None => (trimmed, RateMode::Bucket),
    };
    let (limit, period) = trimmed.split_once('/').ok_or_else(bad)?;
    let limit: u32 = limit.trim().parse().map_err(|_| bad())?;
    let period = period.trim();
    let split = period.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = period.split_at(split);
    let number: u64 = if number.is_empty() {
        1
    } else {
        number.parse().map_err(|_| bad())?
    };
    let unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    let per_ms = number.checked_mul(unit_ms).ok_or_else(bad)?;
    if limit == 0 || per_ms == 0 {
        return Err(format!(
            "{text:?}: a rate needs a limit and a period of at least 1 ms"
        ));
    }
    Ok(RateView {
        limit,
        per_ms,
        mode,
    })
}

/// Sets (replacing) or, with `None`, clears the flow limits of `queue`:
/// the operator API call shared by the dashboard and the CLI. Returns the
/// audit-log action (`set_limits` or `clear_limits`) and the limits now.
pub async fn apply_limits(
    admin: &Admin,
    queue: &str,
    limits: Option<LimitsView>,
) -> Result<(&'static str, LimitsView), jobqueue_core::Error> {
    match limits {
        Some(view) => {
            admin
                .set_queue_limits(queue, QueueLimits::from(view))
                .await?;
            Ok(("set_limits", view))
        }
        None => {
            admin.clear_queue_limits(queue).await?;
            Ok(("clear_limits", LimitsView::default()))
        }
    }
}

/// Sets or clears the flow limits of `queue` for a dashboard user.
pub(crate) async fn set_limits(
    state: &AppState,
    who: &Principal,
    queue: &str,
    limits: Option<LimitsView>,
) -> Result<LimitsView, ApiError> {
    who.require_operator()?;
    let (action, view) = apply_limits(&state.admin, queue, limits).await?;
    audit_log::action(state, who, action, &view.audit_target(queue), 0).await;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print() {
        assert_eq!(
            parse_rate("100/1s"),
            Ok(RateView {
                limit: 100,
                per_ms: 1000,
                mode: RateMode::Bucket,
            })
        );
        assert_eq!(
            parse_rate(" 50/1s strict").map(|r| (r.mode, r.text())),
            Ok((RateMode::Strict, "50/1s strict".to_owned()))
        );
        assert_eq!(
            parse_rate("50/1s bucket").map(|r| r.mode),
            Ok(RateMode::Bucket)
        );
        assert_eq!(parse_rate(" 5 / 2m ").map(|r| r.per_ms), Ok(120_000));
        assert_eq!(parse_rate("100/s").map(|r| r.per_ms), Ok(1000));
        assert_eq!(parse_rate("3/250ms").map(|r| r.per_ms), Ok(250));
        for bad in [
            "",
            "100",
            "x/1s",
            "100/1y",
            "0/1s",
            "100/0s",
            "-1/1s",
            "100/1s fast",
        ] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(format_period(1000), "1s");
        assert_eq!(format_period(120_000), "2m");
        assert_eq!(format_period(250), "250ms");
        assert_eq!(format_period(1500), "1500ms");
        let view = LimitsView {
            max_running: Some(20),
            rate: Some(RateView {
                limit: 100,
                per_ms: 1000,
                mode: RateMode::Bucket,
            }),
        };
        assert_eq!(view.describe(), "at most 20 running · 100 per 1s");
        let strict = LimitsView {
            max_running: None,
            rate: parse_rate("5/1m strict").ok(),
        };
        assert_eq!(strict.describe(), "5 per 1m (strict)");
        assert_eq!(LimitsView::default().describe(), "none");
    }
}
