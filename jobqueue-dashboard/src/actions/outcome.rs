//! What a job or queue action did, as the JSON API answers it and the
//! forms' redirects report it (`?done=<action>&n=<count>`).

use serde::Serialize;

/// What an action did.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ActionOutcome {
    /// The action.
    pub(crate) action: String,
    /// Jobs it touched.
    pub(crate) count: u64,
}

impl ActionOutcome {
    /// `count` jobs touched by `action`.
    pub(crate) fn new(action: &str, count: u64) -> Self {
        Self {
            action: action.to_owned(),
            count,
        }
    }
}
