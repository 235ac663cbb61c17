//! Reading the processed/failed history: per-minute buckets kept two hours
//! and per-day buckets kept 180 days, written per queue by the scripts
//! that end jobs (`count_ended` in include/lib.lua; a script may only touch its
//! queue's hash slot, so there are no global buckets to write). A global
//! point is the sum over the queues, computed here: one read costs one
//! pipelined round trip of one HMGET per queue per bucket asked for, at
//! most [`MAX_HISTORY_MINUTES`] or [`MAX_HISTORY_DAYS`] buckets — with 100
//! queues the dashboard's overview (60 minutes and 30 days) sends 9,000
//! HMGETs in one pipeline, a few milliseconds of Redis time.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Serialize;

use crate::admin::handle::Admin;
use crate::error::Error;

/// Most minute buckets one read returns (the buckets live two hours).
pub const MAX_HISTORY_MINUTES: usize = 120;

/// Most day buckets one read returns (the buckets live 180 days).
pub const MAX_HISTORY_DAYS: usize = 180;

/// Counts of one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryPoint {
    /// Start of the bucket.
    #[serde(serialize_with = "crate::json_time::datetime")]
    pub at: DateTime<Utc>,
    /// Jobs that succeeded in the bucket.
    pub processed: u64,
    /// Failed attempts in the bucket.
    pub failed: u64,
}

impl Admin {
    /// The last `minutes` minute buckets, oldest first, ending with the
    /// current minute (capped at [`MAX_HISTORY_MINUTES`]), summed over
    /// every queue.
    pub async fn minute_history(&self, minutes: usize) -> Result<Vec<HistoryPoint>, Error> {
        let minutes = minutes.clamp(1, MAX_HISTORY_MINUTES);
        let now_minute = Utc::now().timestamp() / 60;
        let starts: Vec<i64> = (0..minutes as i64)
            .rev()
            .map(|back| now_minute - back)
            .collect();
        let queues = self.queue_keys_all().await?;
        let keys = self.store.keys();
        let points: Vec<Vec<String>> = starts
            .iter()
            .map(|minute| {
                queues
                    .iter()
                    .map(|q| q.stats_minute(*minute))
                    // Workers from before the per-queue buckets counted
                    // here: kept in the sum through a rolling upgrade.
                    .chain(std::iter::once(keys.legacy_stats_minute(*minute)))
                    .collect()
            })
            .collect();
        let times = starts
            .iter()
            .map(|m| Utc.timestamp_opt(m * 60, 0).single().unwrap_or_default());
        self.history(&points, times).await
    }

    /// The last `days` day buckets (UTC), oldest first, ending today
    /// (capped at [`MAX_HISTORY_DAYS`]), summed over every queue.
    pub async fn day_history(&self, days: usize) -> Result<Vec<HistoryPoint>, Error> {
        let days = days.clamp(1, MAX_HISTORY_DAYS);
        let today = Utc::now().date_naive();
        let dates: Vec<_> = (0..days as i64)
            .rev()
            .map(|back| today - Duration::days(back))
            .collect();
        let queues = self.queue_keys_all().await?;
        let points: Vec<Vec<String>> = dates
            .iter()
            .map(|date| {
                let day = date.format("%Y-%m-%d").to_string();
                queues.iter().map(|q| q.stats_day(&day)).collect()
            })
            .collect();
        let times = dates.iter().map(|d| {
            d.and_hms_opt(0, 0, 0)
                .map(|t| Utc.from_utc_datetime(&t))
                .unwrap_or_default()
        });
        self.history(&points, times).await
    }

    async fn history(
        &self,
        points: &[Vec<String>],
        times: impl Iterator<Item = DateTime<Utc>>,
    ) -> Result<Vec<HistoryPoint>, Error> {
        let sums = self.store.sum_counters(points).await?;
        Ok(times
            .zip(sums)
            .map(|(at, (processed, failed))| HistoryPoint {
                at,
                processed,
                failed,
            })
            .collect())
    }
}
