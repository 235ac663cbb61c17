//! `retry.lua`: failed (or snoozed) jobs wait for a later run.
//!
//! Sent by [`crate::store::completion`]: failed attempts and snoozes go in
//! calls of their own, so the script counts a call's jobs with one HINCRBY.

use redis::Value;

use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::reply::count_reply;
use crate::store::scripts::{Call, SCRIPTS};

/// A failed (or snoozed) job that runs again after a delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryEntry {
    /// The job id as leased (the record's 36 id bytes).
    pub id: Vec<u8>,
    /// Delay from now (Redis clock) until the retry is due.
    pub delay_ms: u64,
    /// The updated record (attempt count and error history).
    pub record: Vec<u8>,
    /// True for a failed attempt (counted in the queue's `failed`), false
    /// for a snooze (not a failure: counts nothing).
    pub failed: bool,
}

/// One `retry.lua` call for `entries`, all failed attempts (`failed`) or
/// all snoozes; `flow_ready` (the queue's ready-keys set) when some are
/// keyed, so their keys are released.
pub(crate) fn retry_call(
    queue: &QueueKeys,
    active_key: &str,
    flow_ready: Option<&str>,
    failed: bool,
    entries: &[&RetryEntry],
) -> Call {
    let mut keys = vec![active_key, queue.retry(), queue.jobs(), queue.stats()];
    keys.extend(flow_ready);
    retry_call_with_keys(queue, &keys, failed, entries)
}

/// One `retry.lua` call for jobs of one batch: their failed attempts are
/// counted in the batch hash `batch_key` (KEYS[6], after the queue's
/// ready flow keys, always given then).
pub(crate) fn retry_batch_call(
    queue: &QueueKeys,
    active_key: &str,
    batch_key: &str,
    failed: bool,
    entries: &[&RetryEntry],
) -> Call {
    let flow_ready = queue.flow_ready();
    let keys = [
        active_key,
        queue.retry(),
        queue.jobs(),
        queue.stats(),
        flow_ready.as_str(),
        batch_key,
    ];
    retry_call_with_keys(queue, &keys, failed, entries)
}

fn retry_call_with_keys(
    queue: &QueueKeys,
    keys: &[&str],
    failed: bool,
    entries: &[&RetryEntry],
) -> Call {
    let mut call = SCRIPTS
        .retry
        .call(keys)
        .arg(queue.events())
        .arg(u8::from(failed));
    for entry in entries {
        call.push_arg(entry.id.as_slice());
        call.push_arg(entry.delay_ms);
        call.push_arg(entry.record.as_slice());
    }
    call
}

/// Reads `retry.lua`'s reply: how many jobs left this worker.
pub(crate) fn parse_retry_reply(reply: &Value) -> Result<u64, Error> {
    count_reply(reply, "complete")
}
