//! Operator actions on jobs by id or on a whole set: run now (retry) and
//! delete, in batches.

use uuid::Uuid;

use crate::admin::handle::{Admin, BULK_BATCH};
use crate::admin::jobs::JobSet;
use crate::error::Error;
use crate::store::keys::QueueKeys;

impl Admin {
    /// Makes jobs of a waiting set ready now. Dead jobs get a fresh set of
    /// attempts. Returns how many moved.
    pub async fn retry(&self, queue: &str, set: JobSet, ids: &[Uuid]) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        self.apply_to_ids(&q, set, ids, |chunk| {
            let q = &q;
            async move {
                self.store
                    .requeue(q, set.key(q), &chunk, set == JobSet::Dead)
                    .await
            }
        })
        .await
    }

    /// Makes every job of a waiting set ready now, in batches. Returns how many moved.
    pub async fn retry_all(&self, queue: &str, set: JobSet) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        self.drain_set(&q, set, |ids| {
            let q = &q;
            async move {
                self.store
                    .requeue(q, set.key(q), &ids, set == JobSet::Dead)
                    .await
            }
        })
        .await
    }

    /// Deletes jobs from a waiting set. Returns how many were deleted.
    pub async fn delete(&self, queue: &str, set: JobSet, ids: &[Uuid]) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        self.apply_to_ids(&q, set, ids, |chunk| {
            let q = &q;
            async move { self.store.delete_jobs(q, set.key(q), &chunk).await }
        })
        .await
    }

    /// Deletes every job of a waiting set, in batches. Returns how many.
    pub async fn delete_all(&self, queue: &str, set: JobSet) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        self.drain_set(&q, set, |ids| {
            let q = &q;
            async move { self.store.delete_jobs(q, set.key(q), &ids).await }
        })
        .await
    }

    /// Runs `action` on `ids` of `set` in batches (the job-set counterpart
    /// of [`Admin::drain_set`]); jobs that leave the waiting set lose
    /// their dependency records too. Returns the sum of what it counted.
    async fn apply_to_ids<F, Fut>(
        &self,
        q: &QueueKeys,
        set: JobSet,
        ids: &[Uuid],
        mut action: F,
    ) -> Result<u64, Error>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<u64, Error>>,
    {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let mut total = 0;
        for chunk in ids.chunks(BULK_BATCH) {
            total += action(chunk.to_vec()).await?;
            self.forget_dependencies(q, set, chunk).await?;
        }
        Ok(total)
    }

    /// Applies `action` to the set in batches of ids until it is empty, or
    /// until as many batches as the set had at the start have run (so a set
    /// that keeps filling up cannot keep the call going forever).
    async fn drain_set<F, Fut>(
        &self,
        q: &QueueKeys,
        set: JobSet,
        mut action: F,
    ) -> Result<u64, Error>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<u64, Error>>,
    {
        let size = self.store.set_size(set.key(q)).await?;
        let mut total = 0;
        let max_rounds = size / BULK_BATCH as u64 + 2;
        for _ in 0..max_rounds {
            let ids = self.store.set_head_ids(set.key(q), BULK_BATCH).await?;
            if ids.is_empty() {
                break;
            }
            let done = action(ids.clone()).await?;
            self.forget_dependencies(q, set, &ids).await?;
            total += done;
        }
        Ok(total)
    }
}
