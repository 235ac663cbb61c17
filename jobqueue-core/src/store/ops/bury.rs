//! `bury.lua`: jobs that will not run again go to the dead set.
//!
//! Sent by [`crate::store::completion`]; for jobs with dependents, with
//! their parent keys, so their deaths are recorded for the dependents in
//! the same step (the outbox entries are applied by
//! [`crate::store::releases`]).

use std::time::Duration;

use redis::Value;

use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::reply::{array_reply, count_reply, text_reply};
use crate::store::scripts::{Call, SCRIPTS};

/// How many dead jobs a queue keeps, and for how long.
///
/// Defaults: 10,000 jobs and 180 days per queue, as Sidekiq's dead set.
/// Older or excess dead jobs are trimmed (oldest first) and counted in the
/// queue's `dead_trimmed` counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadLimits {
    /// Most dead jobs kept per queue.
    pub max_jobs: u64,
    /// Most age of a dead job.
    pub max_age: Duration,
}

impl Default for DeadLimits {
    fn default() -> Self {
        Self {
            max_jobs: 10_000,
            max_age: Duration::from_secs(180 * 24 * 3600),
        }
    }
}

/// A job that will not run again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuryEntry {
    /// The job id as leased (the record's 36 id bytes).
    pub leased_id: Vec<u8>,
    /// The id it is filed under in the dead set: the same, unless the
    /// leased record was too damaged to carry a valid id.
    pub dead_id: String,
    /// The final record, with the reason in its error history.
    pub record: Vec<u8>,
}

/// What a `bury.lua` call sends besides the dead set's keys.
#[derive(Clone, Copy)]
pub(crate) enum Bury<'a> {
    /// Jobs without dependents; `flow_ready` (the queue's ready flow keys)
    /// when some of the batch's jobs are keyed, so their keys are released.
    Plain { flow_ready: Option<&'a str> },
    /// Jobs with dependents: the flow keys are always released, and the
    /// jobs' parent keys go along so their deaths are recorded for their
    /// dependents.
    Parents,
}

/// One `bury.lua` call (KEYS as in its header).
pub(crate) fn bury_call(
    queue: &QueueKeys,
    active_key: &str,
    entries: &[BuryEntry],
    dead_limits: DeadLimits,
    extra: Bury<'_>,
) -> Call {
    let mut keys = vec![active_key, queue.dead(), queue.jobs(), queue.stats()];
    // Declared here so `keys` can borrow them.
    let (flow_ready, releases, parent_keys): (String, String, Vec<String>);
    match extra {
        Bury::Plain { flow_ready } => keys.extend(flow_ready),
        Bury::Parents => {
            flow_ready = queue.flow_ready();
            releases = queue.releases();
            parent_keys = entries
                .iter()
                .map(|entry| queue.parent(&entry.dead_id))
                .collect();
            keys.push(&flow_ready);
            keys.push(&releases);
            keys.extend(parent_keys.iter().map(String::as_str));
        }
    }
    let mut call = SCRIPTS
        .bury
        .call(&keys)
        .arg(dead_limits.max_jobs)
        .arg(u64::try_from(dead_limits.max_age.as_millis()).unwrap_or(u64::MAX));
    for entry in entries {
        call.push_arg(entry.leased_id.as_slice());
        call.push_arg(entry.dead_id.as_str());
        call.push_arg(entry.record.as_slice());
    }
    call
}

/// Reads `bury.lua`'s reply: (buried, trimmed, outbox entries filed).
pub(crate) fn parse_bury_reply(reply: Value) -> Result<(u64, u64, Vec<String>), Error> {
    const OP: &str = "complete";
    let parts = array_reply(reply, OP)?;
    let (Some(buried), Some(trimmed)) = (parts.first(), parts.get(1)) else {
        return Err(Error::protocol(
            OP,
            "bury reply is not {buried, trimmed, …}",
        ));
    };
    Ok((
        count_reply(buried, OP)?,
        count_reply(trimmed, OP)?,
        parts.iter().skip(2).filter_map(text_reply).collect(),
    ))
}
