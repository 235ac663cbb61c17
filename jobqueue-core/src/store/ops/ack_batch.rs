//! `ack_batch.lua`: a worker finished jobs of one batch successfully: drop
//! them and count them in their batch, in the same step (the batch's
//! callbacks are enqueued there when it completes).
//!
//! Sent by [`crate::store::completion`] for jobs whose envelope names a
//! batch, one call per batch; plain jobs never come here.

use redis::Value;

use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::reply::{array_reply, count_reply, text_reply};
use crate::store::scripts::{Call, SCRIPTS};

/// One `ack_batch.lua` call for `ids`, all of the batch `batch_id`.
pub(crate) fn ack_batch_call(
    queue: &QueueKeys,
    active_key: &str,
    batch_id: &str,
    ids: &[Vec<u8>],
) -> Call {
    let batch_key = queue.batch(batch_id);
    let keys = [active_key, queue.stats(), queue.ready(), batch_key.as_str()];
    let mut call = SCRIPTS.ack_batch.call(&keys).arg(queue.events());
    for id in ids {
        call.push_arg(id.as_slice());
    }
    call
}

/// Reads `ack_batch.lua`'s reply: (jobs acknowledged, callbacks enqueued,
/// the release-outbox entry of a child batch that completed, to apply).
pub(crate) fn parse_ack_batch_reply(reply: Value) -> Result<(u64, u64, Vec<String>), Error> {
    const OP: &str = "complete";
    let parts = array_reply(reply, OP)?;
    match parts.as_slice() {
        [acked, fired, told @ ..] => Ok((
            count_reply(acked, OP)?,
            count_reply(fired, OP)?,
            told.iter().filter_map(text_reply).collect(),
        )),
        _ => Err(Error::protocol(
            OP,
            "ack_batch reply is not {acked, fired, …}",
        )),
    }
}
