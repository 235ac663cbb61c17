//! Flow limits as stored: a queue's limits (`P:{Q}:limits`, read by
//! `fetch_limited.lua` at every fetch) and the limits of each key class
//! (`P:{Q}:glimits`, field per class, `max:rate:per_ms`, `:w` appended for
//! a strict rate).

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// A rate limit: at most `limit` job starts per `per`; how strictly is
/// the [`RateMode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    /// Job starts per period.
    pub limit: u32,
    /// The period.
    pub per: Duration,
    /// Token bucket (`limit` per `per` on average, bursts up to `limit`) or
    /// strict sliding window (never more than `limit` in any `per`).
    pub mode: RateMode,
}

impl RateLimit {
    /// A token-bucket rate limit ([`RateMode::Bucket`]).
    pub fn bucket(limit: u32, per: Duration) -> Self {
        Self {
            limit,
            per,
            mode: RateMode::Bucket,
        }
    }

    /// A strict, sliding-window rate limit ([`RateMode::Strict`]).
    pub fn strict(limit: u32, per: Duration) -> Self {
        Self {
            limit,
            per,
            mode: RateMode::Strict,
        }
    }
}

/// How a [`RateLimit`] counts starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateMode {
    /// A token bucket of `limit` tokens refilled continuously over `per`:
    /// `limit` per `per` on average, a full bucket may go at once, so up to
    /// `2 × limit` can start within one window of `per`.
    #[default]
    Bucket,
    /// A sliding window: at most `limit` starts in **any** window of `per`
    /// (what third-party APIs that answer 429 usually enforce). Costs one
    /// sorted-set entry per start of the last period.
    Strict,
}

impl RateMode {
    /// `"bucket"` or `"strict"`, as the API and CLI spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bucket => "bucket",
            Self::Strict => "strict",
        }
    }
}

impl std::str::FromStr for RateMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "bucket" => Ok(Self::Bucket),
            "strict" => Ok(Self::Strict),
            other => Err(format!(
                "unknown rate mode {other:?}: \"bucket\" or \"strict\""
            )),
        }
    }
}

/// A queue's flow limits; `None` fields do not limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct QueueLimits {
    /// Most jobs of the queue leased (running) at once, across all workers.
    pub max_running: Option<u32>,
    /// Most job starts per period, across all workers.
    pub rate: Option<RateLimit>,
}

impl QueueLimits {
    /// True when nothing is limited.
    pub fn is_unlimited(&self) -> bool {
        self.max_running.is_none() && self.rate.is_none()
    }
}

/// Limits of every key of one class; `None` fields do not limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeyLimits {
    /// Most jobs of one key leased (running) at once, across all workers;
    /// 1 serializes the key.
    pub max_running: Option<u32>,
    /// Most job starts of one key per period, across all workers.
    pub rate: Option<RateLimit>,
}

impl KeyLimits {
    /// The limits of a class nobody configured: one job of a key at a time.
    pub const DEFAULT: KeyLimits = KeyLimits {
        max_running: Some(1),
        rate: None,
    };

    /// The form stored in `P:{queue}:glimits`: `max:rate:per_ms`, 0 = none,
    /// with `:w` appended for a strict rate.
    pub(crate) fn encode(&self) -> String {
        let (limit, per_ms, strict) = self.rate.map_or((0, 0, false), |rate| {
            (
                rate.limit,
                u64::try_from(rate.per.as_millis()).unwrap_or(u64::MAX),
                rate.mode == RateMode::Strict,
            )
        });
        let suffix = if strict { ":w" } else { "" };
        format!("{}:{limit}:{per_ms}{suffix}", self.max_running.unwrap_or(0))
    }

    pub(crate) fn decode(text: &str) -> Option<Self> {
        let (text, mode) = match text.strip_suffix(":w") {
            Some(rest) => (rest, RateMode::Strict),
            None => (text, RateMode::Bucket),
        };
        let mut parts = text.split(':').map(str::parse::<u64>);
        let (Some(Ok(max)), Some(Ok(limit)), Some(Ok(per_ms)), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(KeyLimits {
            max_running: u32::try_from(max).ok().filter(|&m| m > 0),
            rate: match (u32::try_from(limit).ok(), per_ms) {
                (Some(limit), per_ms) if limit > 0 && per_ms > 0 => Some(RateLimit {
                    limit,
                    per: Duration::from_millis(per_ms),
                    mode,
                }),
                _ => None,
            },
        })
    }
}

impl Default for KeyLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Store {
    /// The flow limits of `queue`.
    pub async fn queue_limits(&self, queue: &QueueKeys) -> Result<QueueLimits, Error> {
        let fields: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(queue.limits())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("queue_limits"))?;
        let number = |name: &str| fields.get(name).and_then(|n| n.parse::<u64>().ok());
        let mode = match fields.get("rate_mode").map(String::as_str) {
            Some("window") => RateMode::Strict,
            _ => RateMode::Bucket,
        };
        let rate = match (
            number("rate_limit").and_then(|n| u32::try_from(n).ok()),
            number("rate_ms"),
        ) {
            (Some(limit), Some(ms)) if limit > 0 && ms > 0 => Some(RateLimit {
                limit,
                per: Duration::from_millis(ms),
                mode,
            }),
            _ => None,
        };
        Ok(QueueLimits {
            max_running: number("max_running").and_then(|n| u32::try_from(n).ok()),
            rate,
        })
    }

    /// Replaces `queue`'s limits, and tells its workers at once.
    pub async fn store_queue_limits(
        &self,
        queue: &QueueKeys,
        limits: QueueLimits,
    ) -> Result<(), Error> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(queue.limits())
            .ignore()
            .del(queue.rate())
            .ignore()
            .del(queue.rate_window())
            .ignore();
        if let Some(max) = limits.max_running {
            pipe.hset(queue.limits(), "max_running", max).ignore();
        }
        if let Some(rate) = limits.rate {
            let per_ms = u64::try_from(rate.per.as_millis()).unwrap_or(u64::MAX);
            pipe.hset(queue.limits(), "rate_limit", rate.limit)
                .ignore()
                .hset(queue.limits(), "rate_ms", per_ms)
                .ignore();
            if rate.mode == RateMode::Strict {
                // fetch_limited.lua counts starts in P:{Q}:window instead.
                pipe.hset(queue.limits(), "rate_mode", "window").ignore();
            }
        }
        pipe.publish(queue.events(), "l").ignore();
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("set_queue_limits"))
    }

    /// The limits of each configured key class of `queue`, by class
    /// (entries that do not parse are skipped).
    pub async fn key_limits(&self, queue: &QueueKeys) -> Result<HashMap<String, KeyLimits>, Error> {
        let raw: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(queue.flow_limits())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("key_limits"))?;
        Ok(raw
            .into_iter()
            .filter_map(|(class, text)| KeyLimits::decode(&text).map(|limits| (class, limits)))
            .collect())
    }

    /// Sets the limits of key class `class` on `queue`.
    pub async fn store_key_limits(
        &self,
        queue: &QueueKeys,
        class: &str,
        limits: KeyLimits,
    ) -> Result<(), Error> {
        redis::cmd("HSET")
            .arg(queue.flow_limits())
            .arg(class)
            .arg(limits.encode())
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("set_key_limits"))
    }

    /// Removes the limits of key class `class` on `queue`; false when it
    /// had none.
    pub async fn remove_key_limits(&self, queue: &QueueKeys, class: &str) -> Result<bool, Error> {
        let removed: u64 = redis::cmd("HDEL")
            .arg(queue.flow_limits())
            .arg(class)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("clear_key_limits"))?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_survive_their_stored_form() {
        for limits in [
            KeyLimits::DEFAULT,
            KeyLimits {
                max_running: None,
                rate: Some(RateLimit::bucket(10, Duration::from_secs(1))),
            },
            KeyLimits {
                max_running: Some(3),
                rate: Some(RateLimit::bucket(1, Duration::from_millis(250))),
            },
            KeyLimits {
                max_running: Some(2),
                rate: Some(RateLimit::strict(50, Duration::from_secs(1))),
            },
            KeyLimits {
                max_running: None,
                rate: None,
            },
        ] {
            assert_eq!(KeyLimits::decode(&limits.encode()), Some(limits));
        }
        assert_eq!(KeyLimits::decode("1:2"), None);
    }
}
