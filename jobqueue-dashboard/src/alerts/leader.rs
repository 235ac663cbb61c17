//! The leader lease: of all dashboard processes with alert rules, only
//! the holder of `P:{alerts}:leader` evaluates. Each evaluator tries once
//! per interval (`alert_lease.lua`): the holder renews, the others take it
//! only when it lapsed, so a dead leader is replaced within one lease.

use std::time::Duration;

use jobqueue_core::{Admin, Error};

/// One evaluator's claim on the lease.
#[derive(Debug, Clone)]
pub(crate) struct LeaderLease {
    /// Random per evaluator (a restarted process is a new holder).
    holder: String,
    lease: Duration,
}

impl LeaderLease {
    pub(crate) fn new(lease: Duration) -> Self {
        Self {
            holder: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            lease,
        }
    }

    /// This evaluator's id in the lease key.
    pub(crate) fn holder(&self) -> &str {
        &self.holder
    }

    /// Takes or renews the lease; true while this evaluator leads.
    pub(crate) async fn hold(&self, admin: &Admin) -> Result<bool, Error> {
        admin.alert_lease(&self.holder, self.lease).await
    }
}
