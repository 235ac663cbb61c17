//! `cron_tick.lua`: enqueue the runs of a cron entry's ticks, exactly once.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::{array_reply, int_reply};
use crate::store::scripts::SCRIPTS;

/// What one `cron_tick.lua` call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronTickOutcome {
    /// The runs were enqueued and `through` moved.
    Enqueued(u64),
    /// Another scheduler moved `through` first: nothing was written.
    Stale,
    /// The entry is paused: nothing was written.
    Paused,
}

impl Store {
    /// Enqueues `runs` (record, tick ms) if `through` still equals
    /// `expected_through`, and moves it to `new_through` (`cron_tick.lua`).
    pub async fn cron_tick(
        &self,
        queue: &QueueKeys,
        name: &str,
        expected_through: Option<&str>,
        new_through: i64,
        skipped: u64,
        runs: &[(Vec<u8>, i64)],
    ) -> Result<CronTickOutcome, Error> {
        const OP: &str = "cron_tick";
        let cron_key = queue.cron(name);
        let mut call = SCRIPTS
            .cron_tick
            .call(&[
                &cron_key,
                queue.scheduled(),
                queue.jobs(),
                queue.ready(),
                queue.priority(),
            ])
            .arg(queue.events())
            .arg(expected_through.unwrap_or(""))
            .arg(new_through)
            .arg(skipped);
        for (record, tick) in runs {
            call.push_arg(record.as_slice());
            call.push_arg(*tick);
        }
        let reply = array_reply(call.invoke(&mut self.conn.clone(), OP).await?, OP)?;
        match reply.as_slice() {
            [count, Value::BulkString(status)] => match status.as_slice() {
                b"ok" => Ok(CronTickOutcome::Enqueued(
                    u64::try_from(int_reply(count, OP)?).unwrap_or(0),
                )),
                b"stale" => Ok(CronTickOutcome::Stale),
                b"paused" => Ok(CronTickOutcome::Paused),
                other => Err(Error::protocol(
                    OP,
                    format!("unknown status {:?}", String::from_utf8_lossy(other)),
                )),
            },
            _ => Err(Error::protocol(OP, "reply is not {count, status}")),
        }
    }
}
