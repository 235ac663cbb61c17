//! Controlling time for delayed jobs and retries.
//!
//! Due times live in Redis and are compared with the Redis clock, which a
//! test cannot move. The test's clock is therefore an *offset*: advancing
//! it by an hour makes every job due within the next hour (real time plus
//! the offset) ready at once, through the same operator transition as
//! "retry now" in the dashboard. Jobs run by a later drain see the real
//! time in their context; only what is due moves.

use std::sync::atomic::Ordering;
use std::time::Duration;

use jobqueue_core::JobSet;
use uuid::Uuid;

use crate::error::TestingError;
use crate::test_redis::TestRedis;

impl TestRedis {
    /// Moves the test's clock forward by `by` and makes every scheduled job
    /// and every retry due by then ready (on every queue). Returns how many
    /// became ready. The offset adds up over calls.
    ///
    /// ```
    /// # use jobqueue_core::{Job, JobContext, JobError};
    /// # use serde::{Deserialize, Serialize};
    /// # use std::time::Duration;
    /// # #[derive(Serialize, Deserialize)] struct Remind { user_id: u64 }
    /// # impl Job for Remind {
    /// #     const NAME: &'static str = "remind";
    /// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), jobqueue_testing::TestingError> {
    /// let t = jobqueue_testing::TestRedis::new().await?;
    /// t.client().enqueue_in(Duration::from_secs(3 * 3600), Remind { user_id: 7 }).await?;
    /// assert_eq!(t.advance(Duration::from_secs(2 * 3600)).await?, 0); // not yet
    /// assert_eq!(t.advance(Duration::from_secs(3600)).await?, 1);     // 3 h in: due
    /// let report = t.drain(t.worker().register::<Remind>()).await?;
    /// assert_eq!(report.succeeded(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn advance(&self, by: Duration) -> Result<u64, TestingError> {
        let by_ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.clock_offset_ms.fetch_add(by_ms, Ordering::AcqRel);
        self.promote_due().await
    }

    /// Makes every scheduled job and retry that is due by the test's clock
    /// (Redis time plus the offset of [`TestRedis::advance`]) ready now,
    /// e.g. after enqueueing more delayed jobs. Returns how many.
    pub async fn promote_due(&self) -> Result<u64, TestingError> {
        // Due times carry microseconds (the scripts' clock), so the horizon
        // must too: a job delayed by exactly the offset is due even when
        // no whole millisecond passed since it was enqueued.
        let (secs, micros): (i64, i64) = redis::cmd("TIME")
            .query_async(&mut self.client().store().connection())
            .await?;
        let now_ms = secs as f64 * 1000.0 + micros as f64 / 1000.0;
        let offset_ms = self.clock_offset().as_millis() as f64;
        self.promote_due_by(&format!("{:.3}", now_ms + offset_ms))
            .await
    }

    /// Makes every scheduled job and retry ready now, however far ahead.
    pub async fn promote_all(&self) -> Result<u64, TestingError> {
        self.promote_due_by("+inf").await
    }

    /// Promotes jobs due at or before `horizon_ms` (a score bound:
    /// milliseconds as text, or `+inf`).
    async fn promote_due_by(&self, horizon_ms: &str) -> Result<u64, TestingError> {
        let client = self.client();
        let admin = client.admin();
        let store = client.store();
        let mut conn = store.connection();
        let mut moved = 0;
        for queue in store.queue_names().await? {
            let keys = store.queue_keys(&queue)?;
            for set in [JobSet::Scheduled, JobSet::Retry] {
                let due: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                    .arg(set.key(&keys))
                    .arg("-inf")
                    .arg(horizon_ms)
                    .query_async(&mut conn)
                    .await?;
                let ids: Vec<Uuid> = due.iter().filter_map(|id| id.parse().ok()).collect();
                if !ids.is_empty() {
                    moved += admin.retry(&queue, set, &ids).await?;
                }
            }
        }
        Ok(moved)
    }
}
