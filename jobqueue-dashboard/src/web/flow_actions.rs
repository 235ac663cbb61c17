//! The flow-control operations shared by the JSON API and the UI forms:
//! cron entries (pause, resume, run now, remove), cancelling a job, and a
//! queue's flow limits. Like [`super::actions`], each checks the role, runs
//! the operator API call and writes the audit log.

use std::time::Duration;

use jobqueue_core::{Admin, CancelOutcome, CancelledFrom, QueueLimits, RateLimit};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::audit_log;
use super::auth::Principal;
use super::error::ApiError;
use super::state::AppState;

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

/// The audit-log target of a cancel: `queue id`.
pub fn cancel_audit_target(queue: &str, id: Uuid) -> String {
    format!("{queue} {id}")
}

/// What cancelling a job did.
#[derive(Debug, Clone, Serialize)]
pub struct CancelView {
    /// Always `cancel`.
    pub action: &'static str,
    /// Jobs cancelled (1).
    pub count: u64,
    /// Where the job was: `ready`, `scheduled`, `retry` or `active`
    /// (running: its cancellation token fires in its worker).
    pub from: CancelledFrom,
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

/// A queue's flow limits as the API, pages and CLI show and take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsView {
    /// Most jobs of the queue running at once, across all workers.
    #[serde(default)]
    pub max_running: Option<u32>,
    /// Most job starts per period, across all workers.
    #[serde(default)]
    pub rate: Option<RateView>,
}

/// A rate limit: `limit` starts per `per_ms` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateView {
    /// Job starts per period.
    pub limit: u32,
    /// The period, ms.
    pub per_ms: u64,
}

impl From<QueueLimits> for LimitsView {
    fn from(limits: QueueLimits) -> Self {
        Self {
            max_running: limits.max_running,
            rate: limits.rate.map(|r| RateView {
                limit: r.limit,
                per_ms: u64::try_from(r.per.as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }
}

impl From<LimitsView> for QueueLimits {
    fn from(view: LimitsView) -> Self {
        Self {
            max_running: view.max_running,
            rate: view.rate.map(|r| RateLimit {
                limit: r.limit,
                per: Duration::from_millis(r.per_ms),
            }),
        }
    }
}

impl LimitsView {
    /// The audit-log target of a limits change: `queue <description>`.
    pub fn audit_target(&self, queue: &str) -> String {
        format!("{queue} {}", self.describe())
    }

    /// `at most 20 running · 100 per 1s`, or `none`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(max) = self.max_running {
            parts.push(format!("at most {max} running"));
        }
        if let Some(rate) = self.rate {
            parts.push(format!("{} per {}", rate.limit, format_period(rate.per_ms)));
        }
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(" · ")
        }
    }
}

/// `1s`, `500ms`, `2m`, `1h`: the shortest exact spelling of a period.
pub fn format_period(ms: u64) -> String {
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// Parses a rate `100/1s` (also `100/500ms`, `10/2m`, `5/1h`; `100/s` is
/// `100/1s`) as (limit, period ms).
pub fn parse_rate(text: &str) -> Result<RateView, String> {
    let bad = || format!("{text:?} is not a rate: write it like 100/1s, 20/500ms or 5/1m");
    let (limit, period) = text.trim().split_once('/').ok_or_else(bad)?;
    let limit: u32 = limit.trim().parse().map_err(|_| bad())?;
    let period = period.trim();
    let split = period.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = period.split_at(split);
    let number: u64 = if number.is_empty() {
        1
    } else {
        number.parse().map_err(|_| bad())?
    };
    let unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    let per_ms = number.checked_mul(unit_ms).ok_or_else(bad)?;
    if limit == 0 || per_ms == 0 {
        return Err(format!(
            "{text:?}: a rate needs a limit and a period of at least 1 ms"
        ));
    }
    Ok(RateView { limit, per_ms })
}

/// Sets (replacing) or, with `None`, clears the flow limits of `queue`:
/// the operator API call shared by the dashboard and the CLI. Returns the
/// audit-log action (`set_limits` or `clear_limits`) and the limits now.
pub async fn apply_limits(
    admin: &Admin,
    queue: &str,
    limits: Option<LimitsView>,
) -> Result<(&'static str, LimitsView), jobqueue_core::Error> {
    match limits {
        Some(view) => {
            admin
                .set_queue_limits(queue, QueueLimits::from(view))
                .await?;
            Ok(("set_limits", view))
        }
        None => {
            admin.clear_queue_limits(queue).await?;
            Ok(("clear_limits", LimitsView::default()))
        }
    }
}

/// Sets or clears the flow limits of `queue` for a dashboard user.
pub(crate) async fn set_limits(
    state: &AppState,
    who: &Principal,
    queue: &str,
    limits: Option<LimitsView>,
) -> Result<LimitsView, ApiError> {
    who.require_operator()?;
    let (action, view) = apply_limits(&state.admin, queue, limits).await?;
    audit_log::action(state, who, action, &view.audit_target(queue), 0).await;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print() {
        assert_eq!(
            parse_rate("100/1s"),
            Ok(RateView {
                limit: 100,
                per_ms: 1000
            })
        );
        assert_eq!(parse_rate(" 5 / 2m ").map(|r| r.per_ms), Ok(120_000));
        assert_eq!(parse_rate("100/s").map(|r| r.per_ms), Ok(1000));
        assert_eq!(parse_rate("3/250ms").map(|r| r.per_ms), Ok(250));
        for bad in ["", "100", "x/1s", "100/1y", "0/1s", "100/0s", "-1/1s"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(format_period(1000), "1s");
        assert_eq!(format_period(120_000), "2m");
        assert_eq!(format_period(250), "250ms");
        assert_eq!(format_period(1500), "1500ms");
        let view = LimitsView {
            max_running: Some(20),
            rate: Some(RateView {
                limit: 100,
                per_ms: 1000,
            }),
        };
        assert_eq!(view.describe(), "at most 20 running · 100 per 1s");
        assert_eq!(LimitsView::default().describe(), "none");
    }
}
