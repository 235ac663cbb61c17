//! `bury_batch.lua`: jobs of one batch will not run again: they go to the
//! dead set and are counted dead in their batch, in the same step (its
//! on_death and on_complete callbacks are enqueued there when due).
//!
//! Sent by [`crate::store::completion`] for dying jobs whose envelope
//! names a batch, one call per batch.

use redis::Value;

use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::ops::bury::{BuryEntry, DeadLimits};
use crate::store::reply::{array_reply, count_reply, text_reply};
use crate::store::scripts::{Call, SCRIPTS};

/// One `bury_batch.lua` call for `entries`, all of the batch `batch_id`.
pub(crate) fn bury_batch_call(
    queue: &QueueKeys,
    active_key: &str,
    batch_id: &str,
    entries: &[BuryEntry],
    dead_limits: DeadLimits,
) -> Call {
    let batch_key = queue.batch(batch_id);
    let keys = [
        active_key,
        queue.dead(),
        queue.jobs(),
        queue.stats(),
        queue.ready(),
        batch_key.as_str(),
    ];
    let mut call = SCRIPTS
        .bury_batch
        .call(&keys)
        .arg(dead_limits.max_jobs)
        .arg(u64::try_from(dead_limits.max_age.as_millis()).unwrap_or(u64::MAX))
        .arg(queue.events());
    for entry in entries {
        call.push_arg(entry.leased_id.as_slice());
        call.push_arg(entry.dead_id.as_str());
        call.push_arg(entry.record.as_slice());
    }
    call
}

/// Reads `bury_batch.lua`'s reply: (buried, trimmed, callbacks enqueued).
pub(crate) fn parse_bury_batch_reply(reply: Value) -> Result<(u64, u64, u64, Vec<String>), Error> {
    const OP: &str = "complete";
    let parts = array_reply(reply, OP)?;
    match parts.as_slice() {
        [buried, trimmed, fired, told @ ..] => Ok((
            count_reply(buried, OP)?,
            count_reply(trimmed, OP)?,
            count_reply(fired, OP)?,
            told.iter().filter_map(text_reply).collect(),
        )),
        _ => Err(Error::protocol(
            OP,
            "bury_batch reply is not {buried, trimmed, fired, …}",
        )),
    }
}
