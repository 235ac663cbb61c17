//! Actions on a queue: pause, resume, purge.

use super::outcome::ActionOutcome;
use crate::audit_log;
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

/// Pause, resume or purge a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueAction {
    /// Stop fetching.
    Pause,
    /// Fetch again.
    Resume,
    /// Drop every ready job.
    Purge,
}

impl QueueAction {
    /// From a path segment.
    pub(crate) fn parse(text: &str) -> Result<Self, ApiError> {
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

/// Runs a queue action.
pub(crate) async fn queue_action(
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
    Ok(ActionOutcome::new(action.name(), count))
}
