//! Reading the processed/failed history the workers write (see
//! `jobqueue-worker/src/stats.rs`): per-minute buckets kept two hours and
//! per-day buckets kept 180 days. One read costs one pipelined HMGET per
//! bucket asked for, at most [`MAX_HISTORY_MINUTES`] or [`MAX_HISTORY_DAYS`].

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Serialize;

use super::Admin;
use crate::error::Error;

/// Most minute buckets one read returns (the buckets live two hours).
pub const MAX_HISTORY_MINUTES: usize = 120;

/// Most day buckets one read returns (the buckets live 180 days).
pub const MAX_HISTORY_DAYS: usize = 180;

/// Counts of one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryPoint {
    /// Start of the bucket.
    pub at: DateTime<Utc>,
    /// Jobs that succeeded in the bucket.
    pub processed: u64,
    /// Failed attempts in the bucket.
    pub failed: u64,
}

impl Admin {
    /// The last `minutes` minute buckets, oldest first, ending with the
    /// current minute (capped at [`MAX_HISTORY_MINUTES`]).
    pub async fn minute_history(&self, minutes: usize) -> Result<Vec<HistoryPoint>, Error> {
        let minutes = minutes.clamp(1, MAX_HISTORY_MINUTES);
        let now_minute = Utc::now().timestamp() / 60;
        let starts: Vec<i64> = (0..minutes as i64)
            .rev()
            .map(|back| now_minute - back)
            .collect();
        let keys = self.store.keys();
        let bucket_keys: Vec<String> = starts.iter().map(|m| keys.stats_minute(*m)).collect();
        let times = starts
            .iter()
            .map(|m| Utc.timestamp_opt(m * 60, 0).single().unwrap_or_default());
        self.read_buckets(&bucket_keys, times).await
    }

    /// The last `days` day buckets (UTC), oldest first, ending today
    /// (capped at [`MAX_HISTORY_DAYS`]).
    pub async fn day_history(&self, days: usize) -> Result<Vec<HistoryPoint>, Error> {
        let days = days.clamp(1, MAX_HISTORY_DAYS);
        let today = Utc::now().date_naive();
        let dates: Vec<_> = (0..days as i64)
            .rev()
            .map(|back| today - Duration::days(back))
            .collect();
        let keys = self.store.keys();
        let bucket_keys: Vec<String> = dates
            .iter()
            .map(|d| keys.stats_day(&d.format("%Y-%m-%d").to_string()))
            .collect();
        let times = dates.iter().map(|d| {
            d.and_hms_opt(0, 0, 0)
                .map(|t| Utc.from_utc_datetime(&t))
                .unwrap_or_default()
        });
        self.read_buckets(&bucket_keys, times).await
    }

    async fn read_buckets(
        &self,
        bucket_keys: &[String],
        times: impl Iterator<Item = DateTime<Utc>>,
    ) -> Result<Vec<HistoryPoint>, Error> {
        let mut pipe = redis::pipe();
        for key in bucket_keys {
            pipe.cmd("HMGET").arg(key).arg("processed").arg("failed");
        }
        let counts: Vec<(Option<u64>, Option<u64>)> = pipe
            .query_async(&mut self.store.connection())
            .await
            .map_err(Error::redis("history"))?;
        Ok(times
            .zip(counts)
            .map(|(at, (processed, failed))| HistoryPoint {
                at,
                processed: processed.unwrap_or(0),
                failed: failed.unwrap_or(0),
            })
            .collect())
    }
}
