//! `ack.lua`: a worker finished jobs successfully: drop them.
//!
//! Sent by [`crate::store::completion`] with a worker's batch of finished
//! jobs; unique jobs' lock keys go along, so their locks are freed in the
//! same step.

use redis::Value;

use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::reply::{array_reply, count_reply};
use crate::store::scripts::{Call, SCRIPTS};

/// One `ack.lua` call: acknowledges `ids` (leased by the worker whose
/// active hash is `active_key`). `locks` are the lock keys of the first
/// `locks.len()` ids (unique jobs), freed while they still name the job.
pub(crate) fn ack_call(
    queue: &QueueKeys,
    active_key: &str,
    locks: &[String],
    ids: &[&[u8]],
) -> Call {
    let mut keys = Vec::with_capacity(locks.len() + 2);
    keys.push(active_key);
    keys.push(queue.stats());
    keys.extend(locks.iter().map(String::as_str));
    let mut call = SCRIPTS.ack.call(&keys);
    for id in ids {
        call.push_arg(*id);
    }
    call
}

/// Reads `ack.lua`'s reply: (jobs acknowledged, locks released).
pub(crate) fn parse_ack_reply(reply: Value) -> Result<(u64, u64), Error> {
    const OP: &str = "complete";
    let parts = array_reply(reply, OP)?;
    match parts.as_slice() {
        [acked, released] => Ok((count_reply(acked, OP)?, count_reply(released, OP)?)),
        _ => Err(Error::protocol(OP, "ack reply is not {acked, released}")),
    }
}
