//! `step_store.lua`: a running durable job stores a completed step, or the
//! wake time of a durable sleep, in its memo — only while this worker still
//! holds the job.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::{array_reply, int_reply, text_reply};
use crate::store::scripts::SCRIPTS;

/// What goes into the memo.
#[derive(Debug, Clone, Copy)]
pub enum StepWrite<'a> {
    /// A completed step: its name and output JSON.
    Step {
        /// The step name (`step:<name>` in the memo).
        name: &'a str,
        /// The output, JSON.
        output: &'a str,
    },
    /// A durable sleep: its name and duration.
    Sleep {
        /// The sleep name (`sleep:<name>` in the memo).
        name: &'a str,
        /// How long, ms.
        duration_ms: u64,
    },
}

/// A memo write that was applied.
#[derive(Debug, Clone, PartialEq)]
pub struct StepStored {
    /// The Redis clock when it was stored, ms since the epoch.
    pub now_ms: f64,
    /// The value stored: `<ms> <output>` for a step, the wake time (ms)
    /// for a sleep.
    pub value: String,
}

impl Store {
    /// Writes `write` to job `id`'s memo if `worker_id` still holds the
    /// job on `queue` (its active hash, an unexpired lease). `None` means
    /// it does not: nothing was written. The memo lives `ttl_ms` after
    /// the write (after the wake time for a sleep).
    pub async fn step_store(
        &self,
        queue: &QueueKeys,
        id: &str,
        worker_id: &str,
        write: StepWrite<'_>,
        ttl_ms: u64,
    ) -> Result<Option<StepStored>, Error> {
        const OP: &str = "step_store";
        let active = queue.active(worker_id);
        let steps = queue.steps(id);
        let sleeping = queue.sleeping();
        let status = queue.status(id);
        let keys = [
            active.as_str(),
            queue.leases(),
            steps.as_str(),
            sleeping.as_str(),
            status.as_str(),
        ];
        let call = SCRIPTS.step_store.call(&keys).arg(id).arg(worker_id);
        let call = match write {
            StepWrite::Step { name, output } => call.arg("step").arg(ttl_ms).arg(name).arg(output),
            StepWrite::Sleep { name, duration_ms } => {
                call.arg("sleep").arg(ttl_ms).arg(name).arg(duration_ms)
            }
        };
        let reply: Value = call.invoke(&mut self.conn.clone(), OP).await?;
        let parts = array_reply(reply, OP)?;
        let stored = parts.first().map(|v| int_reply(v, OP)).transpose()? == Some(1);
        let now_ms = parts
            .get(1)
            .and_then(text_reply)
            .and_then(|t| t.parse::<f64>().ok())
            .ok_or_else(|| Error::protocol(OP, "reply without the Redis clock"))?;
        if !stored {
            return Ok(None);
        }
        let value = parts
            .get(2)
            .and_then(text_reply)
            .ok_or_else(|| Error::protocol(OP, "reply without the stored value"))?;
        Ok(Some(StepStored { now_ms, value }))
    }
}
