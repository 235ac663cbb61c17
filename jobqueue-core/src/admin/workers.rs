//! Workers as the operator sees them: live processes and what each is
//! running now.

use serde::Serialize;
use uuid::Uuid;

use crate::admin::handle::{Admin, MAX_PAGE_SIZE};
use crate::admin::jobs::{JobInfo, JobState};
use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::wire::worker_info::WorkerInfo;

/// A job a worker holds right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunningJob {
    /// The job id.
    pub id: Uuid,
    /// Its queue.
    pub queue: String,
    /// Its type (`None` when the record could not be decoded).
    pub job_type: Option<String>,
    /// Attempts before this one.
    pub attempt: u32,
}

impl Admin {
    /// Live worker processes (those that beat within their lease).
    pub async fn workers(&self) -> Result<Vec<WorkerInfo>, Error> {
        let hashes = self.store.worker_hashes(MAX_PAGE_SIZE).await?;
        Ok(hashes.iter().filter_map(WorkerInfo::from_fields).collect())
    }

    /// The jobs each of `workers` holds leased, in the same order: one
    /// pipelined `HVALS` per worker and queue it serves (each hash holds at
    /// most the worker's concurrency), so the cost is O(page of workers ×
    /// their queues), never a scan.
    pub async fn running_jobs(
        &self,
        workers: &[WorkerInfo],
    ) -> Result<Vec<Vec<RunningJob>>, Error> {
        let mut leases: Vec<(QueueKeys, &str)> = Vec::new();
        let mut slots: Vec<(usize, String)> = Vec::new();
        for (index, worker) in workers.iter().enumerate() {
            for queue in &worker.queues {
                // A worker may list a queue name this build rejects; skip it.
                if let Ok(q) = self.store.queue_keys(queue) {
                    leases.push((q, worker.id.as_str()));
                    slots.push((index, queue.clone()));
                }
            }
        }
        let mut out = vec![Vec::new(); workers.len()];
        let replies = self.store.leased_records_of(&leases).await?;
        for ((index, queue), records) in slots.into_iter().zip(replies) {
            for record in records {
                let job = JobInfo::from_record(&queue, JobState::Active, &record, None);
                out[index].push(RunningJob {
                    id: job.id,
                    queue: queue.clone(),
                    job_type: job.job_type,
                    attempt: job.attempt,
                });
            }
        }
        Ok(out)
    }
}
