//! How a cron entry's latest run ended: written on the entry by the worker
//! that ran it (right after recording the job's outcome), read by the
//! operator API.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How a cron run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CronOutcome {
    /// The job succeeded.
    Succeeded,
    /// The attempt failed; the job will be retried.
    Retrying,
    /// The job failed for good and is in the dead set.
    Dead,
    /// An operator cancelled the run.
    Cancelled,
    /// The run expired before it started.
    Expired,
}

/// The result of an entry's latest finished run (written by the worker
/// that ran it, right after recording the job's outcome).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronRunResult {
    /// The run's job id.
    pub job_id: Uuid,
    /// The tick it ran for (ms), when known.
    pub tick_ms: Option<i64>,
    /// When it finished (ms, the worker's clock).
    pub finished_at_ms: i64,
    /// How it ended.
    pub outcome: CronOutcome,
    /// The error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
