//! Actions on jobs: retry (or run a scheduled job now) and delete, by ids
//! or every job of a list that matches a filter; delete keyed jobs; retry
//! or delete one job found by id; cancel a waiting or running job.

use jobqueue_core::{
    BrowseState, BulkAction, CancelOutcome, CancelledFrom, JobFilter, JobSet, JobState,
};
use serde::Serialize;
use uuid::Uuid;

use super::outcome::ActionOutcome;
use crate::audit_log;
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

/// Which jobs a bulk action applies to.
#[derive(Debug, Clone)]
pub(crate) enum Selection {
    /// These ids.
    Ids(Vec<Uuid>),
    /// Every job of the state that matches the filter.
    AllMatching(JobFilter),
}

/// Parses `retry`, `run` (run a scheduled job now) or `delete`.
pub(crate) fn bulk_action(text: &str) -> Result<BulkAction, ApiError> {
    match text {
        "retry" | "run" => Ok(BulkAction::Retry),
        "delete" => Ok(BulkAction::Delete),
        other => Err(ApiError::bad_request(format!(
            "unknown action {other:?}: use retry, run or delete"
        ))),
    }
}

/// Retries or deletes jobs of a waiting set.
pub(crate) async fn jobs_action(
    state: &AppState,
    who: &Principal,
    queue: &str,
    job_state: BrowseState,
    action: BulkAction,
    selection: &Selection,
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
    let (count, target) = match (selection, action) {
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
    Ok(ActionOutcome::new(action_name, count))
}

/// Deletes keyed jobs (waiting in their flow keys' lists). They cannot be
/// retried: they are ready already and run as their key's limits allow.
async fn keyed_jobs_action(
    state: &AppState,
    who: &Principal,
    queue: &str,
    action: BulkAction,
    selection: &Selection,
) -> Result<ActionOutcome, ApiError> {
    if action == BulkAction::Retry {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "keyed jobs cannot be retried: they are ready and run as their flow key's \
             limits allow; delete or cancel them",
        ));
    }
    let admin = &state.admin;
    let (count, target) = match selection {
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
    Ok(ActionOutcome::new("delete", count))
}

/// Retries or deletes the job `id` of `queue` wherever it waits (the job
/// page's buttons). Returns the list it was in, the page to go back to.
pub(crate) async fn job_action(
    state: &AppState,
    who: &Principal,
    queue: &str,
    id: Uuid,
    action: BulkAction,
) -> Result<(BrowseState, ActionOutcome), ApiError> {
    let job = state
        .admin
        .job(queue, id)
        .await?
        .ok_or_else(|| ApiError::job_not_found(id))?;
    let job_state = match job.state {
        // A ready job with a flow key waits in its key's list.
        JobState::Ready if job.flow_key.is_some() => BrowseState::Keyed,
        JobState::Scheduled => BrowseState::Scheduled,
        JobState::Retry => BrowseState::Retry,
        JobState::Waiting => BrowseState::Waiting,
        // Cancelled and expired jobs cannot be retried or deleted:
        // `jobs_action` answers 409 for them.
        JobState::Cancelled => BrowseState::Cancelled,
        JobState::Expired => BrowseState::Expired,
        _ => BrowseState::Dead,
    };
    let selection = Selection::Ids(vec![id]);
    let outcome = jobs_action(state, who, queue, job_state, action, &selection).await?;
    Ok((job_state, outcome))
}

/// The audit-log target of a cancel: `queue id`.
pub fn cancel_audit_target(queue: &str, id: Uuid) -> String {
    format!("{queue} {id}")
}

/// What cancelling a job did.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CancelView {
    /// Always `cancel`.
    pub(crate) action: &'static str,
    /// Jobs cancelled (1).
    pub(crate) count: u64,
    /// Where the job was: `ready`, `scheduled`, `retry` or `active`
    /// (running: its cancellation token fires in its worker).
    pub(crate) from: CancelledFrom,
}

/// Cancels job `id` of `queue`; 404 when no waiting or running job has
/// that id there (finished, dead, already cancelled, or unknown).
pub(crate) async fn cancel_job(
    state: &AppState,
    who: &Principal,
    queue: &str,
    id: Uuid,
) -> Result<CancelView, ApiError> {
    who.require_operator()?;
    match state.admin.cancel(queue, id).await? {
        CancelOutcome::Cancelled { from } => {
            audit_log::action(state, who, "cancel", &cancel_audit_target(queue, id), 1).await;
            Ok(CancelView {
                action: "cancel",
                count: 1,
                from,
            })
        }
        CancelOutcome::NotFound => Err(ApiError::not_found(format!(
            "no waiting or running job {id} on queue {queue:?} (it may have finished, died or been cancelled already)"
        ))),
    }
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
