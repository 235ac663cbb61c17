//! Promotion of due scheduled jobs and retries: `promote.lua`.

use redis::Value;

use super::scripts::SCRIPTS;
use super::{Store, array_reply, int_reply};
use crate::error::Error;
use crate::keys::QueueKeys;

/// What one promotion did, and when the next job is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromoteReply {
    /// Jobs made ready.
    pub moved: u64,
    /// Run-at of the earliest job still waiting (Redis clock, ms), if any.
    pub next_due_ms: Option<i64>,
    /// The Redis clock when the script ran, ms.
    pub now_ms: i64,
}

impl PromoteReply {
    /// Time from the script's now until the next due job (zero if overdue).
    pub fn until_next_due(&self) -> Option<std::time::Duration> {
        self.next_due_ms.map(|due| {
            std::time::Duration::from_millis(u64::try_from(due - self.now_ms).unwrap_or(0))
        })
    }
}

impl Store {
    /// Makes up to `limit` due jobs of `queue` ready (exactly once, never early).
    pub async fn promote(&self, queue: &QueueKeys, limit: usize) -> Result<PromoteReply, Error> {
        const OP: &str = "promote";
        let reply: Value = SCRIPTS
            .promote
            .call(&[
                queue.scheduled(),
                queue.retry(),
                queue.jobs(),
                queue.ready(),
                queue.priority(),
            ])
            .arg(queue.events())
            .arg(limit.max(1))
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        let parts = array_reply(reply, OP)?;
        if parts.len() != 3 {
            return Err(Error::protocol(OP, "reply is not {moved, next_due, now}"));
        }
        let next_due = int_reply(&parts[1], OP)?;
        Ok(PromoteReply {
            moved: u64::try_from(int_reply(&parts[0], OP)?).unwrap_or(0),
            next_due_ms: (next_due >= 0).then_some(next_due),
            now_ms: int_reply(&parts[2], OP)?,
        })
    }
}
