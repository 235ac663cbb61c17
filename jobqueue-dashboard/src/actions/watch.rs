//! Switching a queue's live event stream and history of finished jobs
//! on and off ([`WatchView`]); the operator API call ([`apply_watch`]) is
//! shared with `jobqueue events enable|disable` and `jobqueue history
//! enable|disable`, which write the same audit targets.

use jobqueue_core::Admin;
use jobqueue_core::store::commands::observe::WatchSettings;
use serde::{Deserialize, Serialize};

use crate::audit_log;
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

/// What a queue keeps for watchers, as the API, pages and CLI show and
/// take it: a missing cap is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchView {
    /// Entries kept in the live event stream (`None`: events off).
    #[serde(default)]
    pub events_cap: Option<u64>,
    /// Entries kept in the history of finished jobs (`None`: history off).
    #[serde(default)]
    pub history_cap: Option<u64>,
    /// The history's hard cap while a registered exporter is behind
    /// (default ten times `history_cap`).
    #[serde(default)]
    pub history_max: Option<u64>,
}

impl From<&WatchSettings> for WatchView {
    fn from(settings: &WatchSettings) -> Self {
        Self {
            events_cap: settings.events_cap,
            history_cap: settings.history_cap,
            history_max: settings.history_max,
        }
    }
}

impl WatchView {
    /// `events (10000) · history (100000, at most 1000000)`, or `nothing`:
    /// the audit-log target's description.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(cap) = self.events_cap {
            parts.push(format!("events ({cap})"));
        }
        if let Some(cap) = self.history_cap {
            match self.history_max {
                Some(max) => parts.push(format!("history ({cap}, at most {max})")),
                None => parts.push(format!("history ({cap})")),
            }
        }
        if parts.is_empty() {
            "nothing".to_owned()
        } else {
            parts.join(" · ")
        }
    }
}

/// Sets what `queue` keeps for watchers to `view` (turning off what it
/// leaves out): the operator API call shared by the dashboard and the
/// CLI. Returns the audit-log action (`set_watch`) and the settings now.
pub async fn apply_watch(
    admin: &Admin,
    queue: &str,
    view: WatchView,
) -> Result<(&'static str, WatchView), jobqueue_core::Error> {
    let before = admin.watch_settings(queue).await?;
    if before.events_cap != view.events_cap {
        admin.set_event_stream(queue, view.events_cap).await?;
    }
    if before.history_cap != view.history_cap || before.history_max != view.history_max {
        admin
            .set_history(queue, view.history_cap, view.history_max)
            .await?;
    }
    let now = admin.watch_settings(queue).await?;
    Ok(("set_watch", WatchView::from(&now)))
}

/// Sets what `queue` keeps for watchers, for a dashboard user (operators
/// only), and writes the audit log.
pub(crate) async fn set_watch(
    state: &AppState,
    who: &Principal,
    queue: &str,
    view: WatchView,
) -> Result<WatchView, ApiError> {
    who.require_operator()?;
    let (action, now) = apply_watch(&state.admin, queue, view).await?;
    audit_log::action(
        state,
        who,
        action,
        &format!("{queue} {}", now.describe()),
        0,
    )
    .await;
    Ok(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_describe_themselves() {
        assert_eq!(WatchView::default().describe(), "nothing");
        let view = WatchView {
            events_cap: Some(10_000),
            history_cap: Some(500),
            history_max: Some(5000),
        };
        assert_eq!(
            view.describe(),
            "events (10000) · history (500, at most 5000)"
        );
    }
}
