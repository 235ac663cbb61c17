//! `signal_send.lua`: a signal for a job: stored, and the job woken if it
//! is parked waiting for it.

use std::time::Duration;

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Sends signal `name` with `payload` (JSON) to job `id` of `queue`;
    /// an unconsumed signal is kept `keep`. Returns `true` when the job was
    /// parked waiting for it and is now due.
    pub async fn signal_send(
        &self,
        queue: &QueueKeys,
        id: &str,
        name: &str,
        payload: &str,
        keep: Duration,
    ) -> Result<bool, Error> {
        const OP: &str = "signal_send";
        let signals = queue.signals(id);
        let steps = queue.steps(id);
        let parked = queue.signal_wait();
        let reply: Value = SCRIPTS
            .signal_send
            .call(&[
                signals.as_str(),
                steps.as_str(),
                queue.retry(),
                parked.as_str(),
            ])
            .arg(id)
            .arg(name)
            .arg(payload)
            .arg(u64::try_from(keep.as_millis()).unwrap_or(u64::MAX).max(1))
            .arg(queue.events())
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        Ok(int_reply(&reply, OP)? == 1)
    }
}
