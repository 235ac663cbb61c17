//! Actions on cron entries: pause, resume, run now, remove. The operator
//! API call ([`apply_cron_action`]) and the audit target are shared with
//! the `jobqueue cron` command.

use jobqueue_core::Admin;
use serde::Serialize;
use uuid::Uuid;

use crate::audit_log;
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

/// What an operator can do to a cron entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronAction {
    /// Stop enqueueing ticks.
    Pause,
    /// Enqueue ticks again (missed ones are not run).
    Resume,
    /// Enqueue an extra run now.
    Run,
    /// Forget the entry.
    Remove,
}

impl CronAction {
    /// From a path segment.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        match text {
            "pause" => Ok(Self::Pause),
            "resume" => Ok(Self::Resume),
            "run" => Ok(Self::Run),
            "remove" => Ok(Self::Remove),
            other => Err(ApiError::not_found(format!(
                "unknown cron action {other:?}: use pause, resume, run or remove"
            ))),
        }
    }

    /// The name in the audit log and in redirects (`cron_pause`, ...).
    pub fn audit_name(self) -> &'static str {
        match self {
            Self::Pause => "cron_pause",
            Self::Resume => "cron_resume",
            Self::Run => "cron_run",
            Self::Remove => "cron_remove",
        }
    }
}

/// What a cron action did.
#[derive(Debug, Clone, Serialize)]
pub struct CronActionOutcome {
    /// `cron_pause`, `cron_resume`, `cron_run` or `cron_remove`.
    pub action: String,
    /// The entry's queue.
    pub queue: String,
    /// The entry's name.
    pub name: String,
    /// The job id of the run `run` enqueued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Uuid>,
}

/// Runs a cron action on entry `name` of `queue`: the operator API call
/// shared by the dashboard and the CLI. Returns the job id of the run
/// `Run` enqueued; an unknown entry is [`jobqueue_core::ErrorKind::NotFound`].
pub async fn apply_cron_action(
    admin: &Admin,
    queue: &str,
    name: &str,
    action: CronAction,
) -> Result<Option<Uuid>, jobqueue_core::Error> {
    match action {
        CronAction::Pause => admin.pause_cron(queue, name).await.map(|()| None),
        CronAction::Resume => admin.resume_cron(queue, name).await.map(|()| None),
        CronAction::Run => admin.run_cron_now(queue, name).await.map(Some),
        CronAction::Remove => {
            if admin.remove_cron(queue, name).await? {
                Ok(None)
            } else {
                Err(jobqueue_core::Error::CronEntryNotFound {
                    op: "remove_cron",
                    queue: queue.to_owned(),
                    name: name.to_owned(),
                })
            }
        }
    }
}

/// The audit-log target of a cron action: `queue/name`, plus the run's id.
pub fn cron_audit_target(queue: &str, name: &str, job_id: Option<Uuid>) -> String {
    match job_id {
        Some(id) => format!("{queue}/{name} {id}"),
        None => format!("{queue}/{name}"),
    }
}

/// Runs a cron action for a dashboard user (404 for an unknown entry).
pub(crate) async fn cron_action(
    state: &AppState,
    who: &Principal,
    queue: &str,
    name: &str,
    action: CronAction,
) -> Result<CronActionOutcome, ApiError> {
    who.require_operator()?;
    let job_id = apply_cron_action(&state.admin, queue, name, action).await?;
    let target = cron_audit_target(queue, name, job_id);
    audit_log::action(
        state,
        who,
        action.audit_name(),
        &target,
        u64::from(job_id.is_some()),
    )
    .await;
    Ok(CronActionOutcome {
        action: action.audit_name().to_owned(),
        queue: queue.to_owned(),
        name: name.to_owned(),
        job_id,
    })
}
