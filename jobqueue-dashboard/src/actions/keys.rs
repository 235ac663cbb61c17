//! Actions on the limits of a queue's flow keys (keyed flow control, see
//! `jobqueue_core::admin::keys`): set (replacing) or clear the limits of one key
//! class, and how a class's limits are shown ([`KeyClassView`]). A class's
//! limits take the same shape as a queue's ([`LimitsView`]: a running
//! limit and a rate, each optional). The reads and the operator API call
//! ([`apply_key_limits`]) are shared with the `jobqueue queues key-limits`
//! command.

use jobqueue_core::admin::keys::validate_key_class;
use jobqueue_core::{Admin, KeyLimits, QueueLimits};
use serde::Serialize;

use super::limits::LimitsView;
use crate::audit_log;
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

impl From<KeyLimits> for LimitsView {
    fn from(limits: KeyLimits) -> Self {
        LimitsView::from(QueueLimits {
            max_running: limits.max_running,
            rate: limits.rate,
        })
    }
}

impl From<LimitsView> for KeyLimits {
    fn from(view: LimitsView) -> Self {
        let limits = QueueLimits::from(view);
        Self {
            max_running: limits.max_running,
            rate: limits.rate,
        }
    }
}

/// One key class's limits as the API, pages and CLI show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyClassView {
    /// The class (`customer` for keys `customer:…`).
    pub class: String,
    /// True when limits are set for the class; false when its keys get the
    /// default ([`KeyLimits::DEFAULT`]: one running job per key).
    pub configured: bool,
    /// The limits every key of the class gets.
    #[serde(flatten)]
    pub limits: LimitsView,
}

impl KeyClassView {
    /// A class without limits of its own: its keys get the default.
    pub fn default_for(class: &str) -> Self {
        Self {
            class: class.to_owned(),
            configured: false,
            limits: KeyLimits::DEFAULT.into(),
        }
    }

    /// `at most 2 running · 10 per 1s` (per key), `no limits`, or
    /// `default (at most 1 running)`.
    pub fn describe(&self) -> String {
        let limits = self.limits.describe();
        if !self.configured {
            format!("default ({limits})")
        } else if limits == "none" {
            "no limits".to_owned()
        } else {
            limits
        }
    }

    /// The audit-log target of a change: `queue class <description>`, or
    /// `queue class` when the class was cleared.
    pub fn audit_target(&self, queue: &str) -> String {
        if self.configured {
            format!("{queue} {} {}", self.class, self.describe())
        } else {
            format!("{queue} {}", self.class)
        }
    }
}

/// The configured classes of `queue`, by class.
pub async fn class_limits(
    admin: &Admin,
    queue: &str,
) -> Result<Vec<KeyClassView>, jobqueue_core::Error> {
    Ok(admin
        .key_limits(queue)
        .await?
        .into_iter()
        .map(|c| KeyClassView {
            class: c.class,
            configured: true,
            limits: c.limits.into(),
        })
        .collect())
}

/// The limits keys of `class` on `queue` get: its own, or the default.
pub async fn one_class_limits(
    admin: &Admin,
    queue: &str,
    class: &str,
) -> Result<KeyClassView, jobqueue_core::Error> {
    validate_key_class(class)?;
    Ok(class_limits(admin, queue)
        .await?
        .into_iter()
        .find(|c| c.class == class)
        .unwrap_or_else(|| KeyClassView::default_for(class)))
}

/// Sets (replacing) or, with `None`, clears the limits of key class
/// `class` on `queue`: the operator API call shared by the dashboard and
/// the CLI. Returns the audit-log action (`set_key_limits` or
/// `clear_key_limits`) and the class's limits now. Clearing a class that
/// has no limits is [`jobqueue_core::Error::KeyClassNotFound`].
pub async fn apply_key_limits(
    admin: &Admin,
    queue: &str,
    class: &str,
    limits: Option<LimitsView>,
) -> Result<(&'static str, KeyClassView), jobqueue_core::Error> {
    match limits {
        Some(view) => {
            admin
                .set_key_limits(queue, class, KeyLimits::from(view))
                .await?;
            let now = KeyClassView {
                class: class.to_owned(),
                configured: true,
                limits: view,
            };
            Ok(("set_key_limits", now))
        }
        None => {
            if !admin.clear_key_limits(queue, class).await? {
                return Err(jobqueue_core::Error::KeyClassNotFound {
                    op: "clear_key_limits",
                    queue: queue.to_owned(),
                    class: class.to_owned(),
                });
            }
            Ok(("clear_key_limits", KeyClassView::default_for(class)))
        }
    }
}

/// Sets or clears the limits of key class `class` on `queue` for a
/// dashboard user (operators only; audit-logged).
pub(crate) async fn set_key_limits(
    state: &AppState,
    who: &Principal,
    queue: &str,
    class: &str,
    limits: Option<LimitsView>,
) -> Result<KeyClassView, ApiError> {
    who.require_operator()?;
    let (action, view) = apply_key_limits(&state.admin, queue, class, limits).await?;
    audit_log::action(state, who, action, &view.audit_target(queue), 0).await;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::limits::RateView;

    #[test]
    fn views_convert_and_describe() {
        let view = LimitsView {
            max_running: Some(2),
            rate: Some(RateView {
                limit: 10,
                per_ms: 1000,
                mode: jobqueue_core::RateMode::Strict,
            }),
        };
        assert_eq!(LimitsView::from(KeyLimits::from(view)), view);
        let set = KeyClassView {
            class: "customer".to_owned(),
            configured: true,
            limits: view,
        };
        assert_eq!(
            set.audit_target("default"),
            "default customer at most 2 running · 10 per 1s (strict)"
        );
        let unlimited = KeyClassView {
            limits: LimitsView::default(),
            ..set
        };
        assert_eq!(unlimited.describe(), "no limits");
        let cleared = KeyClassView::default_for("type");
        assert_eq!(cleared.describe(), "default (at most 1 running)");
        assert_eq!(cleared.audit_target("default"), "default type");
    }
}
