//! A job's per-attempt logs as the operator sees them (`P:{Q}:logs:<id>`,
//! written by workers with per-job logs on; see
//! `docs/search-logs-events.md`, "Logs").

use uuid::Uuid;

use crate::admin::Admin;
use crate::error::Error;
pub use crate::store::commands::job_logs::AttemptLog;

impl Admin {
    /// The logs job `id` of `queue` left, one entry per attempt in attempt
    /// order. Empty when none were kept: logs off on its workers, an
    /// attempt that logged nothing and ended in success (whose record and
    /// logs are gone), or a job that is gone.
    pub async fn job_logs(&self, queue: &str, id: Uuid) -> Result<Vec<AttemptLog>, Error> {
        let q = self.store.queue_keys(queue)?;
        self.store.job_logs(&q, &id.to_string()).await
    }
}
