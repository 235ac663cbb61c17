//! The operator's view of jobs that ended without running to the end:
//! the cancelled set and the expired set of each queue (both bounded to
//! 10,000 jobs and 7 days; see `file_finished` in `src/lua/include/flow.lua`).

use crate::admin::handle::Admin;
use crate::admin::jobs::{JobInfo, JobState};
use crate::error::Error;
pub use crate::store::commands::job_sets::{MAX_FINISHED_AGE_MS, MAX_FINISHED_KEPT};
use crate::store::keys::QueueKeys;

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
        self.store().set_size(&keys.cancelled()).await
    }

    /// How many expired jobs a queue keeps now.
    pub async fn expired_count(&self, queue: &str) -> Result<u64, Error> {
        let keys = self.store().queue_keys(queue)?;
        self.store().set_size(&keys.expired()).await
    }

    async fn list_finished(
        &self,
        keys: &QueueKeys,
        set_key: &str,
        state: JobState,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        let limit = limit.clamp(1, MAX_PAGE);
        let scored = self.store().set_page(set_key, offset, limit, true).await?;
        if scored.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = scored.iter().map(|(id, _)| id.as_str()).collect();
        let records = self.store().stored_records(keys, &ids).await?;
        Ok(scored
            .iter()
            .zip(records)
            .filter_map(|((_, at), record)| {
                record.map(|r| JobInfo::from_record(keys.name(), state, &r, Some(*at as i64)))
            })
            .collect())
    }
}
