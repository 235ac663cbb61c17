//! The state-changing operations, shared by the JSON API and the UI forms:
//! each checks the role, runs the operator API call and, when it changed
//! something, writes the audit log.

use jobqueue_core::{BrowseState, BulkAction, JobFilter, JobSet};
use serde::Serialize;
use uuid::Uuid;

use super::audit_log;
use super::auth::Principal;
use super::error::ApiError;
use super::state::AppState;

/// What an action did.
#[derive(Debug, Clone, Serialize)]
pub struct ActionOutcome {
    /// The action.
    pub action: String,
    /// Jobs it touched.
    pub count: u64,
}

/// Which jobs a bulk action applies to.
#[derive(Debug, Clone)]
pub enum Selection {
    /// These ids.
    Ids(Vec<Uuid>),
    /// Every job of the state that matches the filter.
    AllMatching(JobFilter),
}

/// Pause, resume or purge a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueAction {
    /// Stop fetching.
    Pause,
    /// Fetch again.
    Resume,
    /// Drop every ready job.
    Purge,
}

impl QueueAction {
    /// From a path segment.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        match text {
            "pause" => Ok(Self::Pause),
            "resume" => Ok(Self::Resume),
            "purge" => Ok(Self::Purge),
            other => Err(ApiError::not_found(format!(
                "unknown queue action {other:?}: use pause, resume or purge"
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Purge => "purge",
        }
    }
}

/// Parses `retry`, `run` (run a scheduled job now) or `delete`.
pub fn bulk_action(text: &str) -> Result<BulkAction, ApiError> {
    match text {
        "retry" | "run" => Ok(BulkAction::Retry),
        "delete" => Ok(BulkAction::Delete),
        other => Err(ApiError::bad_request(format!(
            "unknown action {other:?}: use retry, run or delete"
        ))),
    }
}

/// Runs a queue action.
pub async fn queue_action(
    state: &AppState,
    who: &Principal,
    queue: &str,
    action: QueueAction,
) -> Result<ActionOutcome, ApiError> {
    who.require_operator()?;
    let admin = &state.admin;
    let (changed, count) = match action {
        QueueAction::Pause => (admin.pause(queue).await?, 0),
        QueueAction::Resume => (admin.resume(queue).await?, 0),
        QueueAction::Purge => admin.purge(queue).await.map(|n| (n > 0, n))?,
    };
    // Pausing a paused queue, or purging an empty one, changed nothing:
    // not logged, so a flood of no-ops cannot push real actions out.
    if changed {
        audit_log::action(state, who, action.name(), queue, count).await;
    }
    Ok(ActionOutcome {
        action: action.name().to_owned(),
        count,
    })
}

/// Retries or deletes jobs of a waiting set.
pub async fn jobs_action(
    state: &AppState,
    who: &Principal,
    queue: &str,
    job_state: BrowseState,
    action: BulkAction,
    selection: Selection,
) -> Result<ActionOutcome, ApiError> {
    who.require_operator()?;
    if job_state == BrowseState::Keyed {
        return keyed_jobs_action(state, who, queue, action, selection).await;
    }
    let Some(set) = job_state.set() else {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            format!(
                "{} jobs cannot be retried or deleted here: only scheduled, retry, dead, \
                 waiting and (delete only) keyed jobs",
                job_state.as_str()
            ),
        ));
    };
    let admin = &state.admin;
    let (count, target) = match (&selection, action) {
        (Selection::Ids(ids), BulkAction::Retry) => {
            (admin.retry(queue, set, ids).await?, describe_ids(ids))
        }
        (Selection::Ids(ids), BulkAction::Delete) => {
            (admin.delete(queue, set, ids).await?, describe_ids(ids))
        }
        (Selection::AllMatching(filter), action) => (
            admin
                .apply_matching(queue, set, filter, action, |_, _| {})
                .await?,
            describe_filter(filter),
        ),
    };
    let action_name = match (action, set) {
        (BulkAction::Retry, JobSet::Scheduled) => "run_now",
        (BulkAction::Retry, _) => "retry",
        (BulkAction::Delete, _) => "delete",
    };
    let target = format!("{queue}/{} {target}", job_state.as_str());
    if count > 0 {
        audit_log::action(state, who, action_name, &target, count).await;
    }
    Ok(ActionOutcome {
        action: action_name.to_owned(),
        count,
    })
}

/// Deletes keyed jobs (waiting in their flow keys' lists). They cannot be
/// retried: they are ready already and run as their key's limits allow.
async fn keyed_jobs_action(
    state: &AppState,
    who: &Principal,
    queue: &str,
    action: BulkAction,
    selection: Selection,
) -> Result<ActionOutcome, ApiError> {
    if action == BulkAction::Retry {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "keyed jobs cannot be retried: they are ready and run as their flow key's \
             limits allow; delete or cancel them",
        ));
    }
    let admin = &state.admin;
    let (count, target) = match &selection {
        Selection::Ids(ids) => (admin.delete_keyed(queue, ids).await?, describe_ids(ids)),
        Selection::AllMatching(filter) => (
            admin
                .delete_keyed_matching(queue, filter, |_, _| {})
                .await?,
            describe_filter(filter),
        ),
    };
    let target = format!("{queue}/keyed {target}");
    if count > 0 {
        audit_log::action(state, who, "delete", &target, count).await;
    }
    Ok(ActionOutcome {
        action: "delete".to_owned(),
        count,
    })
}

fn describe_ids(ids: &[Uuid]) -> String {
    match ids {
        [one] => one.to_string(),
        _ => format!("{} selected jobs", ids.len()),
    }
}

fn describe_filter(filter: &JobFilter) -> String {
    let mut parts = vec!["all matching".to_owned()];
    if let Some(t) = &filter.job_type {
        parts.push(format!("type={t}"));
    }
    if let Some(e) = &filter.error_contains {
        parts.push(format!("error~{e}"));
    }
    if let Some(f) = &filter.fingerprint {
        parts.push(format!("group={f}"));
    }
    parts.join(" ")
}
