//! `ack_keyed.lua`: ack.lua for a batch with keyed jobs: drop them and
//! release their flow keys.
//!
//! Sent instead of `ack.lua` for a batch that holds keyed jobs
//! ([`crate::store::completion`]).

use redis::Value;

use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::reply::count_reply;
use crate::store::scripts::{Call, SCRIPTS};

/// One `ack_keyed.lua` call for `ids`, releasing the flow keys of the
/// keyed ones (`flow_ready` is the queue's ready-keys set).
pub(crate) fn ack_keyed_call(
    queue: &QueueKeys,
    active_key: &str,
    flow_ready: &str,
    ids: &[&[u8]],
) -> Call {
    let mut call = SCRIPTS
        .ack_keyed
        .call(&[active_key, flow_ready, queue.stats()]);
    for id in ids {
        call.push_arg(*id);
    }
    call
}

/// Reads `ack_keyed.lua`'s reply: how many jobs were acknowledged.
pub(crate) fn parse_ack_keyed_reply(reply: &Value) -> Result<u64, Error> {
    count_reply(reply, "complete")
}
