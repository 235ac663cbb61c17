//! Retry backoff policies.
//!
//! The default is exponential with jitter: 15 s before the first retry,
//! doubling each time, capped at 2 days, each delay spread ±25 % so a burst
//! of failures does not retry in lockstep. With the default 25 attempts a
//! job keeps retrying for about three weeks (≈ 23 days in total) before it
//! is dead — the same horizon Sidekiq users know (~21 days for 25 retries),
//! so a bug fixed and deployed within that time lets the jobs finish.
//!
//! | retry | delay (before jitter) | time since first failure |
//! | ---: | ---: | ---: |
//! | 1 | 15 s | 15 s |
//! | 5 | 4 min | 7.75 min |
//! | 10 | 2.1 h | 4.3 h |
//! | 14 | 34 h | 2.8 days |
//! | 15-24 | 2 days (cap) | 4.8 … 22.8 days |

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default delay before the first retry.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_secs(15);
/// Default growth factor between retries.
pub const DEFAULT_FACTOR: f64 = 2.0;
/// Default longest delay between two retries.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(2 * 24 * 3600);
/// Default jitter: each delay is multiplied by a random factor in `1 ± 0.25`.
pub const DEFAULT_JITTER: f64 = 0.25;

/// How long to wait before retrying a failed job.
///
/// Serializable so it can travel with a single job (`client.job(..).backoff(..)`).
/// For a curve no policy expresses, override [`crate::Job::retry_delay`].
///
/// ```
/// use jobqueue_core::BackoffPolicy;
/// use std::time::Duration;
///
/// let fixed = BackoffPolicy::fixed(Duration::from_secs(10));
/// assert_eq!(fixed.delay(1), Duration::from_secs(10));
///
/// let exp = BackoffPolicy::exponential(Duration::from_secs(1), 2.0, Duration::from_secs(60))
///     .with_jitter(0.0);
/// assert_eq!(exp.delay(3), Duration::from_secs(4));
/// assert_eq!(exp.delay(30), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackoffPolicy {
    /// `base × factor^(retry-1)`, capped at `max`.
    Exponential {
        /// Delay before the first retry, ms.
        base_ms: u64,
        /// Growth factor per retry.
        factor: f64,
        /// Longest delay, ms.
        max_ms: u64,
        /// Relative jitter in `[0, 1]`.
        #[serde(default)]
        jitter: f64,
    },
    /// The same delay every time.
    Fixed {
        /// The delay, ms.
        delay_ms: u64,
        /// Relative jitter in `[0, 1]`.
        #[serde(default)]
        jitter: f64,
    },
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self::Exponential {
            base_ms: duration_ms(DEFAULT_BASE_DELAY),
            factor: DEFAULT_FACTOR,
            max_ms: duration_ms(DEFAULT_MAX_DELAY),
            jitter: DEFAULT_JITTER,
        }
    }
}

impl BackoffPolicy {
    /// Exponential backoff with the default jitter.
    pub fn exponential(base: Duration, factor: f64, max: Duration) -> Self {
        Self::Exponential {
            base_ms: duration_ms(base),
            factor,
            max_ms: duration_ms(max),
            jitter: DEFAULT_JITTER,
        }
    }

    /// A fixed delay, without jitter.
    pub fn fixed(delay: Duration) -> Self {
        Self::Fixed {
            delay_ms: duration_ms(delay),
            jitter: 0.0,
        }
    }

    /// The same policy with another relative jitter (clamped to `[0, 1]`).
    #[must_use]
    pub fn with_jitter(self, jitter: f64) -> Self {
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        match self {
            Self::Exponential {
                base_ms,
                factor,
                max_ms,
                ..
            } => Self::Exponential {
                base_ms,
                factor,
                max_ms,
                jitter,
            },
            Self::Fixed { delay_ms, .. } => Self::Fixed { delay_ms, jitter },
        }
    }

    /// The delay before retry number `retry` (1 = the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let (nominal_ms, jitter) = match *self {
            Self::Exponential {
                base_ms,
                factor,
                max_ms,
                jitter,
            } => {
                let exponent = retry.saturating_sub(1).min(1024) as i32;
                let factor = if factor.is_finite() && factor >= 1.0 {
                    factor
                } else {
                    1.0
                };
                let raw = base_ms as f64 * factor.powi(exponent);
                (raw.min(max_ms as f64), jitter)
            }
            Self::Fixed { delay_ms, jitter } => (delay_ms as f64, jitter),
        };
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let spread = if jitter > 0.0 {
            1.0 + jitter * (fastrand::f64() * 2.0 - 1.0)
        } else {
            1.0
        };
        Duration::from_millis((nominal_ms * spread).max(0.0) as u64)
    }
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_curve_spans_about_three_weeks_over_25_attempts() {
        let policy = BackoffPolicy::default().with_jitter(0.0);
        let total: Duration = (1..=24).map(|retry| policy.delay(retry)).sum();
        let days = total.as_secs_f64() / 86_400.0;
        assert!((20.0..=25.0).contains(&days), "{days} days");
        assert_eq!(policy.delay(1), Duration::from_secs(15));
        assert_eq!(policy.delay(24), DEFAULT_MAX_DELAY);
    }

    #[test]
    fn jitter_stays_within_its_band() {
        let policy = BackoffPolicy::fixed(Duration::from_secs(100)).with_jitter(0.25);
        for _ in 0..1000 {
            let d = policy.delay(1).as_secs_f64();
            assert!((75.0..=125.0).contains(&d), "{d}");
        }
    }

    #[test]
    fn absurd_settings_do_not_overflow() {
        let policy = BackoffPolicy::Exponential {
            base_ms: u64::MAX,
            factor: f64::INFINITY,
            max_ms: u64::MAX,
            jitter: f64::NAN,
        };
        let _ = policy.delay(u32::MAX);
        let policy =
            BackoffPolicy::exponential(Duration::from_secs(1), 0.5, Duration::from_secs(9));
        assert_eq!(policy.with_jitter(0.0).delay(5), Duration::from_secs(1));
    }

    #[test]
    fn serializes_with_a_kind_tag() {
        let json = serde_json::to_string(&BackoffPolicy::fixed(Duration::from_millis(5))).unwrap();
        assert_eq!(json, r#"{"kind":"fixed","delay_ms":5,"jitter":0.0}"#);
    }
}
