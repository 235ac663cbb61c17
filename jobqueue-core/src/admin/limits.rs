//! Flow limits of a queue, enforced by `fetch_limited.lua` across every
//! worker process: at most N jobs running at once, and at most `limit`
//! jobs started per period (token bucket). Set by the operator API; workers
//! pick changes up at once (a `l` message on the queue's events channel)
//! and at their next heartbeat at the latest.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use crate::admin::Admin;
use crate::error::Error;
use crate::store::Store;
use crate::store::keys::QueueKeys;

/// Largest `max_running` accepted (per queue or per flow key).
pub const MAX_RUNNING_LIMIT: u32 = 1_000_000;

/// Largest rate limit accepted: job starts per period.
pub const MAX_RATE_LIMIT: u32 = 1_000_000;

/// Longest rate period accepted: one day.
pub const MAX_RATE_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// Checks limits against their bounds: `max_running` 1 to
/// [`MAX_RUNNING_LIMIT`], a rate of 1 to [`MAX_RATE_LIMIT`] starts per 1 ms
/// to [`MAX_RATE_PERIOD`]. Larger values are no useful limit and would
/// only overflow the scripts' arithmetic.
pub(crate) fn validate_limits(
    op: &'static str,
    max_running: Option<u32>,
    rate: Option<RateLimit>,
    zero_running_hint: &str,
) -> Result<(), Error> {
    match max_running {
        Some(0) => {
            return Err(Error::invalid(
                op,
                format!("max_running must be at least 1 ({zero_running_hint})"),
            ));
        }
        Some(max) if max > MAX_RUNNING_LIMIT => {
            return Err(Error::invalid(
                op,
                format!("max_running must be at most {MAX_RUNNING_LIMIT}, got {max}"),
            ));
        }
        _ => {}
    }
    if let Some(rate) = rate {
        if rate.limit == 0 || rate.per.as_millis() == 0 {
            return Err(Error::invalid(
                op,
                "a rate limit needs a limit and a period of at least 1 ms",
            ));
        }
        if rate.limit > MAX_RATE_LIMIT {
            return Err(Error::invalid(
                op,
                format!(
                    "a rate limit allows at most {MAX_RATE_LIMIT} starts per period, got {}",
                    rate.limit
                ),
            ));
        }
        if rate.per > MAX_RATE_PERIOD {
            return Err(Error::invalid(
                op,
                format!(
                    "a rate period is at most {} ms (one day), got {} ms",
                    MAX_RATE_PERIOD.as_millis(),
                    rate.per.as_millis()
                ),
            ));
        }
    }
    Ok(())
}

/// A rate limit: at most `limit` job starts per `per`, in bursts of at
/// most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    /// Job starts per period.
    pub limit: u32,
    /// The period.
    pub per: Duration,
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

impl Store {
    /// The flow limits of `queue`.
    pub async fn queue_limits(&self, queue: &QueueKeys) -> Result<QueueLimits, Error> {
        let fields: HashMap<String, u64> = redis::cmd("HGETALL")
            .arg(queue.limits())
            .query_async(&mut self.connection())
            .await
            .map_err(Error::redis("queue_limits"))?;
        let number = |name: &str| fields.get(name).and_then(|&n| u32::try_from(n).ok());
        let rate = match (number("rate_limit"), fields.get("rate_ms")) {
            (Some(limit), Some(&ms)) if limit > 0 && ms > 0 => Some(RateLimit {
                limit,
                per: Duration::from_millis(ms),
            }),
            _ => None,
        };
        Ok(QueueLimits {
            max_running: number("max_running"),
            rate,
        })
    }
}

impl Admin {
    /// Sets the flow limits of `queue` (replacing earlier ones); every
    /// worker applies them within a second. Values beyond the bounds
    /// ([`MAX_RUNNING_LIMIT`], [`MAX_RATE_LIMIT`], [`MAX_RATE_PERIOD`]) are
    /// refused.
    pub async fn set_queue_limits(&self, queue: &str, limits: QueueLimits) -> Result<(), Error> {
        const OP: &str = "set_queue_limits";
        validate_limits(
            OP,
            limits.max_running,
            limits.rate,
            "pause the queue instead",
        )?;
        let keys = self.store().queue_keys(queue)?;
        self.store().register_queues([queue]).await?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(keys.limits())
            .ignore()
            .del(keys.rate())
            .ignore();
        if let Some(max) = limits.max_running {
            pipe.hset(keys.limits(), "max_running", max).ignore();
        }
        if let Some(rate) = limits.rate {
            let per_ms = u64::try_from(rate.per.as_millis()).unwrap_or(u64::MAX);
            pipe.hset(keys.limits(), "rate_limit", rate.limit)
                .ignore()
                .hset(keys.limits(), "rate_ms", per_ms)
                .ignore();
        }
        pipe.publish(keys.events(), "l").ignore();
        pipe.query_async::<()>(&mut self.store().connection())
            .await
            .map_err(Error::redis(OP))
    }

    /// Removes every flow limit of `queue`.
    pub async fn clear_queue_limits(&self, queue: &str) -> Result<(), Error> {
        self.set_queue_limits(queue, QueueLimits::default()).await
    }

    /// The flow limits of `queue`.
    pub async fn queue_limits(&self, queue: &str) -> Result<QueueLimits, Error> {
        let keys = self.store().queue_keys(queue)?;
        self.store().queue_limits(&keys).await
    }
}
