//! What each worker is running now.

use serde::Serialize;
use uuid::Uuid;

use super::{Admin, JobInfo, JobState};
use crate::error::Error;
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
    /// The jobs each of `workers` holds leased, in the same order: one
    /// pipelined `HVALS` per worker and queue it serves (each hash holds at
    /// most the worker's concurrency), so the cost is O(page of workers ×
    /// their queues), never a scan.
    pub async fn running_jobs(
        &self,
        workers: &[WorkerInfo],
    ) -> Result<Vec<Vec<RunningJob>>, Error> {
        let mut pipe = redis::pipe();
        let mut slots: Vec<(usize, String)> = Vec::new();
        for (index, worker) in workers.iter().enumerate() {
            for queue in &worker.queues {
                // A worker may list a queue name this build rejects; skip it.
                if let Ok(q) = self.store.queue_keys(queue) {
                    pipe.cmd("HVALS").arg(q.active(&worker.id));
                    slots.push((index, queue.clone()));
                }
            }
        }
        let mut out = vec![Vec::new(); workers.len()];
        if slots.is_empty() {
            return Ok(out);
        }
        let replies: Vec<Vec<Vec<u8>>> = pipe
            .query_async(&mut self.store.connection())
            .await
            .map_err(Error::redis("running_jobs"))?;
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
