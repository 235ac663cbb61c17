//! `wake_waiters.lua`: a slot of a queue's running limit may have freed:
//! wake the workers waiting for one (only when one waits).
//!
//! Sent only for queues with flow limits: in the same round trip as the
//! ending scripts of a completion batch ([`crate::store::completion`]), and
//! on its own after a reclaim, a hand-back or an expiry.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::{Call, SCRIPTS};

/// The `wake_waiters.lua` call for `queue`.
pub(crate) fn wake_waiters_call(queue: &QueueKeys) -> Call {
    let flag = queue.slot_waiter();
    SCRIPTS.wake_waiters.call(&[&flag]).arg(queue.events())
}

impl Store {
    /// Wakes the workers waiting for a slot of `queue`'s running limit, if
    /// any waits (`w` on the queue's events channel). Returns whether it
    /// woke them. For queues with flow limits, after jobs left a worker
    /// other than through [`Store::complete`] (which does this itself).
    pub async fn wake_waiters(&self, queue: &QueueKeys) -> Result<bool, Error> {
        const OP: &str = "wake_waiters";
        let reply = wake_waiters_call(queue)
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        Ok(int_reply(&reply, OP)? == 1)
    }
}
