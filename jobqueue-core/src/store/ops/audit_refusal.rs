//! `audit_refusal.lua`: may this refused request be written to the audit log?
//!
//! Called by the operator API ([`crate::Admin::record_refusal`]) for each
//! refused dashboard request.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Counts one refused request of kind `reason` in the current window
    /// (`window_ms` long; state kept `state_ttl_ms`). Returns whether to
    /// log it (fewer than `per_window` logged in the window), how many were
    /// suppressed in the window that just ended (to log as one summary),
    /// and when that window started (ms).
    pub async fn audit_refusal(
        &self,
        reason: &str,
        per_window: u32,
        window_ms: u64,
        state_ttl_ms: u64,
    ) -> Result<(bool, u64, i64), Error> {
        let key = self.keys.audit_refusals(reason);
        let (log, suppressed, window_start_ms): (u8, u64, i64) = SCRIPTS
            .audit_refusal
            .call(&[&key])
            .arg(per_window)
            .arg(window_ms)
            .arg(state_ttl_ms)
            .invoke(&mut self.conn.clone(), "audit_refusal")
            .await?;
        Ok((log == 1, suppressed, window_start_ms))
    }
}
