//! Actions on batches: retry their dead jobs, cancel them. Each checks the
//! operator role and writes the audit log; the CLI (`jobqueue batch <id>
//! --retry-dead | --cancel`) runs the same operator API calls and writes
//! the same audit names and targets ([`batch_audit_target`]).

use jobqueue_core::admin::BatchState;
use serde::Serialize;
use uuid::Uuid;

use crate::audit_log;
use crate::error::ApiError;
use crate::format::short;
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;

/// What an operator can do to a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    /// Put its dead jobs back in its queue.
    RetryDead,
    /// Cancel it: its waiting jobs go to the cancelled set.
    Cancel,
}

impl BatchAction {
    /// From a path segment (`retry-dead`, `cancel`).
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        match text {
            "retry-dead" => Ok(Self::RetryDead),
            "cancel" => Ok(Self::Cancel),
            other => Err(ApiError::not_found(format!(
                "unknown batch action {other:?}: use retry-dead or cancel"
            ))),
        }
    }

    /// The name in the audit log and in redirects.
    pub fn audit_name(self) -> &'static str {
        match self {
            Self::RetryDead => "batch_retry_dead",
            Self::Cancel => "batch_cancel",
        }
    }
}

/// What a batch action did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchActionOutcome {
    /// `batch_retry_dead` or `batch_cancel`.
    pub action: &'static str,
    /// The batch's home queue.
    pub queue: String,
    /// The batch id.
    pub id: Uuid,
    /// Jobs put back (retry-dead) or cancelled.
    pub jobs: u64,
}

/// The `state` filter of the list (`open`, `finished`, `cancelled`).
pub(crate) fn state_filter(params: &Params) -> Result<Option<BatchState>, ApiError> {
    match params.get("state") {
        None => Ok(None),
        Some("open") => Ok(Some(BatchState::Open)),
        Some("finished") => Ok(Some(BatchState::Finished)),
        Some("cancelled") => Ok(Some(BatchState::Cancelled)),
        Some(other) => Err(ApiError::bad_request(format!(
            "state {:?}: use open, finished or cancelled",
            short(other, 40)
        ))),
    }
}

/// A batch id from a path segment (400 when it is not a UUID).
pub fn batch_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text)
        .map_err(|_| ApiError::bad_request(format!("{:?} is not a batch id", short(text, 40))))
}

/// The audit-log target of a batch action: `queue/batch/<id>`.
pub fn batch_audit_target(queue: &str, id: Uuid) -> String {
    format!("{queue}/batch/{id}")
}

/// Runs a batch action for a dashboard user (404 for an unknown batch).
pub(crate) async fn batch_action(
    state: &AppState,
    who: &Principal,
    queue: &str,
    id: Uuid,
    action: BatchAction,
) -> Result<BatchActionOutcome, ApiError> {
    who.require_operator()?;
    let jobs = match action {
        BatchAction::RetryDead => state.admin.batch_retry_dead(queue, id).await?,
        BatchAction::Cancel => state.admin.batch_cancel(queue, id).await?,
    };
    let target = batch_audit_target(queue, id);
    audit_log::action(state, who, action.audit_name(), &target, jobs).await;
    Ok(BatchActionOutcome {
        action: action.audit_name(),
        queue: queue.to_owned(),
        id,
        jobs,
    })
}
