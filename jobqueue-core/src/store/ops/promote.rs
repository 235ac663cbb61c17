//! `promote.lua`: due scheduled jobs and due retries become ready.
//!
//! Called by the workers' delayed-job promoter.

use redis::Value;

use crate::store::handle::Store;
use crate::store::reply::{array_reply, int_reply};
use crate::store::scripts::SCRIPTS;

/// Reads a time sent as text (`"1732500000123.456"`); `""` means none.
fn time_reply(value: &Value) -> Result<Option<f64>, Error> {
    match value {
        Value::BulkString(bytes) if bytes.is_empty() => Ok(None),
        Value::BulkString(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.parse().ok())
            .map(Some)
            .ok_or_else(|| Error::protocol("promote", "a time that is not a number")),
        other => Err(Error::protocol(
            "promote",
            format!("expected a time, got {other:?}"),
        )),
    }
}
use crate::error::Error;
use crate::store::keys::QueueKeys;

/// What one promotion did, and when the next job is due.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PromoteReply {
    /// Jobs made ready.
    pub moved: u64,
    /// Run-at of the earliest job still waiting (Redis clock, ms with a
    /// microsecond fraction), if any.
    pub next_due_ms: Option<f64>,
    /// The Redis clock when the script ran (ms with a microsecond fraction).
    pub now_ms: f64,
}

impl PromoteReply {
    /// Time from the script's now until the next due job (zero if overdue),
    /// to the microsecond.
    pub fn until_next_due(&self) -> Option<std::time::Duration> {
        self.next_due_ms.map(|due| {
            let micros = ((due - self.now_ms) * 1000.0).ceil();
            std::time::Duration::from_micros(if micros > 0.0 { micros as u64 } else { 0 })
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
        Ok(PromoteReply {
            moved: u64::try_from(int_reply(&parts[0], OP)?).unwrap_or(0),
            next_due_ms: time_reply(&parts[1])?,
            now_ms: time_reply(&parts[2])?.ok_or_else(|| Error::protocol(OP, "no clock"))?,
        })
    }
}
