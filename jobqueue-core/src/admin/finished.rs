//! The operator's view of jobs that ended without running to the end:
//! the cancelled set and the expired set of each queue (both bounded to
//! 10,000 jobs and 7 days; see `file_finished` in `scripts/lib.lua`).

use crate::admin::{Admin, JobInfo, JobState};
use crate::error::Error;
use crate::store::keys::QueueKeys;

/// Most cancelled or expired jobs kept per queue (the oldest go first).
pub const MAX_FINISHED_KEPT: u64 = 10_000;

/// Longest a cancelled or expired job is kept, ms (7 days).
pub const MAX_FINISHED_AGE_MS: u64 = 7 * 24 * 3600 * 1000;

/// Most jobs per page.
const MAX_PAGE: usize = 1000;

impl Admin {
    /// One page of a queue's cancelled jobs, most recent first (`at` is
    /// when each was cancelled).
    pub async fn list_cancelled(
        &self,
        queue: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        let keys = self.store().queue_keys(queue)?;
        self.list_finished(&keys, &keys.cancelled(), JobState::Cancelled, offset, limit)
            .await
    }

    /// One page of a queue's expired jobs, most recent first (`at` is
    /// when each was dropped).
    pub async fn list_expired(
        &self,
        queue: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        let keys = self.store().queue_keys(queue)?;
        self.list_finished(&keys, &keys.expired(), JobState::Expired, offset, limit)
            .await
    }

    /// How many cancelled jobs a queue keeps now.
    pub async fn cancelled_count(&self, queue: &str) -> Result<u64, Error> {
        let keys = self.store().queue_keys(queue)?;
        self.set_size(&keys.cancelled()).await
    }

    /// How many expired jobs a queue keeps now.
    pub async fn expired_count(&self, queue: &str) -> Result<u64, Error> {
        let keys = self.store().queue_keys(queue)?;
        self.set_size(&keys.expired()).await
    }

    async fn set_size(&self, key: &str) -> Result<u64, Error> {
        redis::cmd("ZCARD")
            .arg(key)
            .query_async(&mut self.store().connection())
            .await
            .map_err(Error::redis("finished_count"))
    }

    async fn list_finished(
        &self,
        keys: &QueueKeys,
        set_key: &str,
        state: JobState,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        const OP: &str = "list_finished";
        let limit = limit.clamp(1, MAX_PAGE);
        let mut conn = self.store().connection();
        let scored: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
            .arg(set_key)
            .arg(offset)
            .arg(offset + limit - 1)
            .arg("WITHSCORES")
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        if scored.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = scored.iter().map(|(id, _)| id.as_str()).collect();
        let records: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
            .arg(keys.jobs())
            .arg(&ids)
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        Ok(scored
            .iter()
            .zip(records)
            .filter_map(|((_, at), record)| {
                record.map(|r| JobInfo::from_record(keys.name(), state, &r, Some(*at as i64)))
            })
            .collect())
    }
}
