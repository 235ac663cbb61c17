//! `ack_steps.lua`: a worker finished durable jobs successfully: drop them
//! and, in the same step, their memos and pending signals.
//!
//! Sent by [`crate::store::completion`] for the jobs of a batch whose run
//! used the memo (`CompletionBatch::step_acks`); plain jobs stay on
//! `ack.lua`.

use redis::Value;

use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::reply::count_reply;
use crate::store::scripts::{Call, SCRIPTS};

/// One `ack_steps.lua` call for `ids` (each with its memo and signals).
pub(crate) fn ack_steps_call(queue: &QueueKeys, active_key: &str, ids: &[Vec<u8>]) -> Call {
    let per_job: Vec<String> = ids
        .iter()
        .flat_map(|id| {
            let id = String::from_utf8_lossy(id);
            [queue.steps(&id), queue.signals(&id)]
        })
        .collect();
    let mut keys = vec![active_key, queue.stats()];
    keys.extend(per_job.iter().map(String::as_str));
    let mut call = SCRIPTS.ack_steps.call(&keys);
    for id in ids {
        call.push_arg(id.as_slice());
    }
    call
}

/// Reads `ack_steps.lua`'s reply: jobs acknowledged.
pub(crate) fn parse_ack_steps_reply(reply: &Value) -> Result<u64, Error> {
    count_reply(reply, "complete")
}
