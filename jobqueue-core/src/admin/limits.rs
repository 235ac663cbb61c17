//! Flow limits of a queue, enforced by `fetch_limited.lua` across every
//! worker process: at most N jobs running at once, and at most `limit`
//! jobs started per period (token bucket). Set by the operator API; workers
//! pick changes up at once (a `l` message on the queue's events channel)
//! and at their next heartbeat at the latest.

use std::time::Duration;

use crate::admin::handle::Admin;
use crate::error::Error;
pub use crate::store::commands::limits::{QueueLimits, RateLimit, RateMode};

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
        self.store().store_queue_limits(&keys, limits).await
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
