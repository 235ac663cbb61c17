//! `alert_lease.lua`: take or keep the alert evaluators' leader lease.
//!
//! Called by the operator API ([`crate::Admin::alert_lease`]) once per
//! evaluation interval of each dashboard's alert evaluator.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Renews the lease when `holder` has it, takes it when nobody has;
    /// true when `holder` holds it for `lease_ms` from now.
    pub async fn alert_lease(&self, holder: &str, lease_ms: u64) -> Result<bool, Error> {
        let key = self.keys.alerts_leader();
        let held: u8 = SCRIPTS
            .alert_lease
            .call(&[&key])
            .arg(holder)
            .arg(lease_ms.max(1))
            .invoke(&mut self.conn.clone(), "alert_lease")
            .await?;
        Ok(held == 1)
    }
}
