//! Finding a job by id when the queue is not known.

use uuid::Uuid;

use super::{Admin, JobInfo};
use crate::error::Error;

impl Admin {
    /// A scheduled, retrying, dead, waiting-for-parents, cancelled or
    /// expired job (or a keyed job waiting in its key's list) by id, looked
    /// up in every known queue (one pipelined lookup per queue: O(number of
    /// queues)). Ready and running jobs are not indexed by id and are not
    /// found here.
    pub async fn find_job(&self, id: Uuid) -> Result<Option<JobInfo>, Error> {
        for queue in self.store.queue_names().await? {
            if let Some(job) = self.job(&queue, id).await? {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }
}
