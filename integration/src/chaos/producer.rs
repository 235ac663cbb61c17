//! Bulk enqueueing of traced jobs.

use jobqueue_testing::TestRedis;
use uuid::Uuid;

use crate::jobs::TestJob;

/// Jobs per bulk enqueue call.
const BATCH: usize = 500;

/// Enqueues `count` copies of `template` (each tagged with its number) on
/// the default queue, in bulk; returns their ids.
pub async fn enqueue_traced(env: &TestRedis, count: u64, template: &TestJob) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(count as usize);
    let mut next = 0;
    while next < count {
        let end = (next + BATCH as u64).min(count);
        let jobs = (next..end).map(|tag| TestJob {
            tag,
            ..template.clone()
        });
        let batch = env
            .client()
            .enqueue_bulk(jobs)
            .await
            .unwrap_or_else(|e| panic!("bulk enqueue failed: {e}"));
        ids.extend(batch);
        next = end;
    }
    ids
}
