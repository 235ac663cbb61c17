//! Finding a job by id when the queue is not known.

use uuid::Uuid;

use super::{Admin, JobInfo};
use crate::error::Error;

impl Admin {
    /// A scheduled, retrying, dead, cancelled or expired job by id, looked up in every known
    /// queue (one pipelined lookup per queue: O(number of queues)). Ready
    /// and running jobs are not indexed by id and are not found here.
    pub async fn find_job(&self, id: Uuid) -> Result<Option<JobInfo>, Error> {
        for queue in self.store.queue_names().await? {
            if let Some(job) = self.job(&queue, id).await? {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }
}
