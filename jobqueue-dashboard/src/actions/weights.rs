//! Actions on the weights of a queue's flow keys (weighted fairness, see
//! `jobqueue_core::admin::fairness`): set or clear the weight of one key
//! class or flow key, how a weight is shown ([`FlowWeightView`]), and the
//! per-key waits as every surface reads them ([`key_waits`], the busiest
//! [`WAIT_KEYS_SHOWN`] keys plus "other"). The reads and the operator API
//! call ([`apply_flow_weight`]) are shared with the `jobqueue queues
//! weights` and `jobqueue queues key-waits` commands.

use jobqueue_core::admin::FlowWaits;
use jobqueue_core::admin::keys::{key_class, validate_flow_key};
use jobqueue_core::{Admin, Error};
use serde::{Deserialize, Serialize};

use crate::audit_log;
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

/// The weight of a key without one of its own or of its class.
pub const DEFAULT_WEIGHT: u32 = 1;

pub use crate::flow_waits::WAIT_KEYS_SHOWN;

/// The body of `PUT /api/v1/queues/{queue}/weights/{name}`: `{"weight": 3}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightBody {
    /// The new weight, 1-[`jobqueue_core::admin::MAX_FLOW_WEIGHT`].
    pub weight: u32,
}

/// The weight of one key class or flow key as the API, pages and CLI show
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowWeightView {
    /// The key class (`tenant`) or flow key (`tenant:4711`).
    pub name: String,
    /// True when a weight is set for `name` itself; false when its keys
    /// weigh what they would without it (a flow key its class's weight,
    /// else [`DEFAULT_WEIGHT`]).
    pub configured: bool,
    /// The weight its keys get now.
    pub weight: u32,
}

impl FlowWeightView {
    /// `weight 3`; without a weight of its own, `default (weight 1)`, or
    /// `as class tenant (weight 2)` for a flow key whose class has one.
    pub fn describe(&self) -> String {
        let class = key_class(&self.name);
        if self.configured {
            format!("weight {}", self.weight)
        } else if class != self.name && self.weight != DEFAULT_WEIGHT {
            format!("as class {class} (weight {})", self.weight)
        } else {
            format!("default (weight {})", self.weight)
        }
    }

    /// The audit-log target of a change: `queue name weight N`, or
    /// `queue name` when the weight was cleared.
    pub fn audit_target(&self, queue: &str) -> String {
        if self.configured {
            format!("{queue} {} weight {}", self.name, self.weight)
        } else {
            format!("{queue} {}", self.name)
        }
    }
}

/// The weights set on `queue`, by name.
pub async fn flow_weights(admin: &Admin, queue: &str) -> Result<Vec<FlowWeightView>, Error> {
    Ok(admin
        .flow_weights(queue)
        .await?
        .into_iter()
        .map(|w| FlowWeightView {
            name: w.name,
            configured: true,
            weight: w.weight,
        })
        .collect())
}

/// The weight keys named by `name` on `queue` get: its own, else (for a
/// flow key) its class's, else [`DEFAULT_WEIGHT`].
pub async fn one_flow_weight(
    admin: &Admin,
    queue: &str,
    name: &str,
) -> Result<FlowWeightView, Error> {
    validate_flow_key(name)?;
    let weights = admin.flow_weights(queue).await?;
    let weight_of = |wanted: &str| weights.iter().find(|w| w.name == wanted).map(|w| w.weight);
    Ok(match weight_of(name) {
        Some(weight) => FlowWeightView {
            name: name.to_owned(),
            configured: true,
            weight,
        },
        None => FlowWeightView {
            name: name.to_owned(),
            configured: false,
            weight: weight_of(key_class(name)).unwrap_or(DEFAULT_WEIGHT),
        },
    })
}

/// Sets or, with `None`, clears the weight of `name` (a key class or a
/// flow key) on `queue`: the operator API call shared by the dashboard and
/// the CLI. Returns the audit-log action (`set_flow_weight` or
/// `clear_flow_weight`) and the weight `name`'s keys get now. Clearing a
/// name that has no weight is [`Error::FlowWeightNotFound`]; a bad name or
/// weight is [`jobqueue_core::ErrorKind::InvalidArgument`].
pub async fn apply_flow_weight(
    admin: &Admin,
    queue: &str,
    name: &str,
    weight: Option<u32>,
) -> Result<(&'static str, FlowWeightView), Error> {
    match weight {
        Some(weight) => {
            admin.set_flow_weight(queue, name, weight).await?;
            let now = FlowWeightView {
                name: name.to_owned(),
                configured: true,
                weight,
            };
            Ok(("set_flow_weight", now))
        }
        None => {
            if !admin.clear_flow_weight(queue, name).await? {
                return Err(Error::FlowWeightNotFound {
                    op: "clear_flow_weight",
                    queue: queue.to_owned(),
                    name: name.to_owned(),
                });
            }
            Ok((
                "clear_flow_weight",
                one_flow_weight(admin, queue, name).await?,
            ))
        }
    }
}

/// Sets or clears the weight of `name` on `queue` for a dashboard user
/// (operators only; audit-logged).
pub(crate) async fn set_flow_weight(
    state: &AppState,
    who: &Principal,
    queue: &str,
    name: &str,
    weight: Option<u32>,
) -> Result<FlowWeightView, ApiError> {
    who.require_operator()?;
    let (action, view) = apply_flow_weight(&state.admin, queue, name, weight).await?;
    audit_log::action(state, who, action, &view.audit_target(queue), 0).await;
    Ok(view)
}

/// The waits of `queue`'s latest keyed starts: the [`WAIT_KEYS_SHOWN`]
/// busiest keys by name, the rest as "other".
pub async fn key_waits(admin: &Admin, queue: &str) -> Result<FlowWaits, Error> {
    admin.flow_key_waits(queue, WAIT_KEYS_SHOWN).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_describe_and_name_their_audit_targets() {
        let set = FlowWeightView {
            name: "gold".to_owned(),
            configured: true,
            weight: 3,
        };
        assert_eq!(set.describe(), "weight 3");
        assert_eq!(set.audit_target("default"), "default gold weight 3");
        let cleared = FlowWeightView {
            name: "gold".to_owned(),
            configured: false,
            weight: DEFAULT_WEIGHT,
        };
        assert_eq!(cleared.describe(), "default (weight 1)");
        assert_eq!(cleared.audit_target("default"), "default gold");
        let inherits = FlowWeightView {
            name: "gold:7".to_owned(),
            configured: false,
            weight: 2,
        };
        assert_eq!(inherits.describe(), "as class gold (weight 2)");
    }
}
