//! `ack_parents.lua`: a worker finished jobs that have dependents,
//! successfully: drop them (as ack.lua) and, in the same step, record the
//! success for their dependents.
//!
//! Sent by [`crate::store::completion`] for jobs enqueued with dependents;
//! the outbox entries it files are applied by [`crate::store::releases`].

use redis::Value;

use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::reply::{array_reply, count_reply, text_reply};
use crate::store::scripts::{Call, SCRIPTS};

/// One `ack_parents.lua` call for `ids` (each with its parent hash), with
/// the results some of them left (by leased id; the others send '').
pub(crate) fn ack_parents_call(
    queue: &QueueKeys,
    active_key: &str,
    ids: &[Vec<u8>],
    results: &[(Vec<u8>, String)],
) -> Call {
    let parents: Vec<String> = ids.iter().map(|id| parent_key(queue, id)).collect();
    let releases = queue.releases();
    let mut keys = vec![active_key, releases.as_str(), queue.stats()];
    keys.extend(parents.iter().map(String::as_str));
    let mut call = SCRIPTS.ack_parents.call(&keys);
    for id in ids {
        call.push_arg(id.as_slice());
    }
    for id in ids {
        let result = results
            .iter()
            .find(|(leased, _)| leased == id)
            .map_or("", |(_, json)| json.as_str());
        call.push_arg(result);
    }
    call
}

/// Reads `ack_parents.lua`'s reply: (jobs acknowledged, outbox entries filed).
pub(crate) fn parse_ack_parents_reply(reply: Value) -> Result<(u64, Vec<String>), Error> {
    const OP: &str = "complete";
    let parts = array_reply(reply, OP)?;
    let Some(acked) = parts.first() else {
        return Err(Error::protocol(OP, "ack_parents reply is empty"));
    };
    Ok((
        count_reply(acked, OP)?,
        parts.iter().skip(1).filter_map(text_reply).collect(),
    ))
}

/// The parent hash of the job leased under `id`.
pub(crate) fn parent_key(queue: &QueueKeys, id: &[u8]) -> String {
    queue.parent(&String::from_utf8_lossy(id))
}
