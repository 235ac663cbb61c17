//! Completion transitions: `ack.lua` (which also frees the uniqueness
//! locks of unique jobs that succeeded, given as keys), `ack_keyed.lua` (a
//! batch with keyed jobs), `retry.lua` and `bury.lua`. Jobs enqueued with
//! dependents are acknowledged by `ack_parents.lua` and buried by
//! `bury.lua` with their parent keys, which also file release outbox
//! entries (see `dependencies.rs`).
//!
//! Every combination of unique, keyed and with dependents is handled:
//! the parent calls always release the flow keys of keyed jobs (they are
//! rare, so they skip the batch's `keyed` test). A unique job's lock is
//! freed by the script that records its end, in the same step and only for
//! a job still leased by this worker: `ack.lua` from the lock keys it is
//! given, the other scripts from the digest in the job's record
//! (`release_unique` in include/flow.lua). A worker whose lease lapsed frees
//! no lock of a job that runs again elsewhere.
//!
//! A worker finishes jobs in batches: everything one worker finished on one
//! queue since its last flush goes out as at most three script calls in a
//! single round trip.
//!
//! The same scripts count the jobs they end in the queue's counters
//! (`processed` for successes, `failed` for failed attempts and deaths;
//! snoozes count nothing), once per call, for only the jobs this worker
//! still held: see `count_ended` in include/lib.lua.

use std::collections::HashSet;
use std::time::Duration;

use redis::Value;

use super::dependencies::text_reply;
use super::scripts::{Call, SCRIPTS, invoke_pipelined};
use super::{Store, array_reply, int_reply};
use crate::error::Error;
use crate::store::keys::QueueKeys;

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

/// Everything one worker finished on one queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompletionBatch {
    /// Ids (as leased) of jobs that succeeded.
    pub acks: Vec<Vec<u8>>,
    /// Jobs to retry later.
    pub retries: Vec<RetryEntry>,
    /// Jobs for the dead set.
    pub buries: Vec<BuryEntry>,
    /// Uniqueness locks of unique jobs among `acks`: (key digest, job id),
    /// given to `ack.lua` as keys (entries for other ids are ignored). The
    /// scripts that record every other ending — and `ack_keyed.lua` — find
    /// a job's lock from its record.
    pub unique_releases: Vec<(String, String)>,
    /// True when some of the jobs carry a flow key: the scripts then
    /// release their keys (plain batches skip that work entirely).
    pub keyed: bool,
    /// Ids (as leased) of jobs with dependents that succeeded
    /// (`ack_parents.lua`, which also releases their flow keys).
    pub parent_acks: Vec<Vec<u8>>,
    /// Jobs with dependents for the dead set (`bury.lua` with their
    /// parent keys, and the flow-key release).
    pub parent_buries: Vec<BuryEntry>,
}

impl CompletionBatch {
    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of jobs in the batch.
    pub fn len(&self) -> usize {
        self.acks.len()
            + self.retries.len()
            + self.buries.len()
            + self.parent_acks.len()
            + self.parent_buries.len()
    }

    /// The (leased id, digest) pairs of acknowledged unique jobs, whose
    /// locks `ack.lua` frees.
    fn unique_acks(&self) -> Vec<UniqueAck<'_>> {
        if self.unique_releases.is_empty() {
            return Vec::new();
        }
        let acked: HashSet<&[u8]> = self.acks.iter().map(Vec::as_slice).collect();
        self.unique_releases
            .iter()
            .filter_map(|(digest, id)| {
                acked
                    .get(id.as_bytes())
                    .map(|acked| (*acked, digest.as_str()))
            })
            .collect()
    }
}

/// What a completion flush did. Counts below the batch's mean some jobs
/// were no longer leased by this worker (its lease lapsed and they were
/// reclaimed): those were left where they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompletionReport {
    /// Jobs acknowledged.
    pub acked: u64,
    /// Jobs moved to the retry set.
    pub retried: u64,
    /// Jobs moved to the dead set.
    pub buried: u64,
    /// Old dead jobs trimmed to keep the dead set within its limits.
    pub trimmed: u64,
    /// Uniqueness locks of acknowledged jobs released by `ack.lua` (the
    /// other scripts free the locks of the jobs they end without counting).
    pub released: u64,
    /// Release outbox entries filed for the dependents of jobs that
    /// succeeded or died: apply them with [`Store::apply_releases`].
    pub releases: Vec<String>,
}

/// A unique job's acknowledgement: its leased id and its lock's digest.
type UniqueAck<'a> = (&'a [u8], &'a str);

/// The script calls that record one [`CompletionBatch`], ready to send.
pub struct CompletionCalls {
    calls: Vec<(Call, Kind)>,
}

impl CompletionCalls {
    /// Packs a batch into at most one call per transition (more only when
    /// a transition has over 1000 jobs).
    pub fn pack(
        queue: &QueueKeys,
        active_key: &str,
        batch: &CompletionBatch,
        dead_limits: DeadLimits,
    ) -> Self {
        let mut calls: Vec<(Call, Kind)> = Vec::with_capacity(3);
        let flow_ready = batch.keyed.then(|| queue.flow_ready());
        // Appended to the scripts' keys for a keyed batch.
        let flow: Vec<&str> = flow_ready.iter().map(String::as_str).collect();
        // A plain batch's unique acknowledgements carry their locks (freed
        // in the same step by `ack.lua`); the other acknowledgements are
        // ids only (`ack_keyed.lua` finds the locks from the records).
        let unique_acks = if flow.is_empty() {
            batch.unique_acks()
        } else {
            Vec::new()
        };
        for chunk in unique_acks.chunks(super::enqueue::MAX_RECORDS_PER_CALL) {
            let locks: Vec<String> = chunk
                .iter()
                .map(|(_, digest)| queue.unique(digest))
                .collect();
            let mut keys = Vec::with_capacity(locks.len() + 2);
            keys.push(active_key);
            keys.push(queue.stats());
            keys.extend(locks.iter().map(String::as_str));
            let mut call = SCRIPTS.ack.call(&keys);
            for (id, _) in chunk {
                call.push_arg(*id);
            }
            calls.push((call, Kind::Ack));
        }
        let plain_acks: Vec<&[u8]> = if unique_acks.is_empty() {
            batch.acks.iter().map(Vec::as_slice).collect()
        } else {
            let unique: HashSet<&[u8]> = unique_acks.iter().map(|(id, _)| *id).collect();
            batch
                .acks
                .iter()
                .map(Vec::as_slice)
                .filter(|id| !unique.contains(id))
                .collect()
        };
        for chunk in plain_acks.chunks(super::enqueue::MAX_RECORDS_PER_CALL) {
            let mut call = if flow.is_empty() {
                SCRIPTS.ack.call(&[active_key, queue.stats()])
            } else {
                SCRIPTS
                    .ack_keyed
                    .call(&[&[active_key][..], &flow, &[queue.stats()]].concat())
            };
            for id in chunk {
                call.push_arg(*id);
            }
            calls.push((call, Kind::Ack));
        }
        for chunk in batch
            .parent_acks
            .chunks(super::enqueue::MAX_RECORDS_PER_CALL)
        {
            let parents: Vec<String> = chunk.iter().map(|id| parent_key(queue, id)).collect();
            let releases = queue.releases();
            let mut keys = vec![active_key, releases.as_str(), queue.stats()];
            keys.extend(parents.iter().map(String::as_str));
            let mut call = SCRIPTS.ack_parents.call(&keys);
            for id in chunk {
                call.push_arg(id.as_slice());
            }
            calls.push((call, Kind::AckParents));
        }
        // Failed attempts and snoozes go in calls of their own (snoozes
        // are rare), so the script counts a call's jobs with one HINCRBY.
        for failed in [true, false] {
            let entries: Vec<&RetryEntry> = batch
                .retries
                .iter()
                .filter(|entry| entry.failed == failed)
                .collect();
            for chunk in entries.chunks(super::enqueue::MAX_RECORDS_PER_CALL) {
                let keys = [active_key, queue.retry(), queue.jobs(), queue.stats()];
                let mut call = SCRIPTS
                    .retry
                    .call(&[&keys[..], &flow].concat())
                    .arg(queue.events())
                    .arg(u8::from(failed));
                for entry in chunk {
                    call.push_arg(entry.id.as_slice());
                    call.push_arg(entry.delay_ms);
                    call.push_arg(entry.record.as_slice());
                }
                calls.push((call, Kind::Retry));
            }
        }
        for chunk in batch.buries.chunks(super::enqueue::MAX_RECORDS_PER_CALL) {
            let extra = Bury::Plain {
                flow_ready: flow_ready.as_deref(),
            };
            calls.push((
                bury_call(queue, active_key, chunk, dead_limits, extra),
                Kind::Bury,
            ));
        }
        for chunk in batch
            .parent_buries
            .chunks(super::enqueue::MAX_RECORDS_PER_CALL)
        {
            calls.push((
                bury_call(queue, active_key, chunk, dead_limits, Bury::Parents),
                Kind::Bury,
            ));
        }
        Self { calls }
    }

    /// Number of script calls.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

impl Store {
    /// Records the outcome of finished jobs leased by one worker on `queue`
    /// (its active hash is `active_key`), in one round trip.
    pub async fn complete(
        &self,
        queue: &QueueKeys,
        active_key: &str,
        batch: &CompletionBatch,
        dead_limits: DeadLimits,
    ) -> Result<CompletionReport, Error> {
        const OP: &str = "complete";
        let packed = CompletionCalls::pack(queue, active_key, batch, dead_limits);
        let (script_calls, kinds): (Vec<Call>, Vec<Kind>) = packed.calls.into_iter().unzip();
        let replies = invoke_pipelined(&mut self.conn.clone(), &script_calls, OP).await?;
        let mut report = CompletionReport::default();
        for (reply, kind) in replies.into_iter().zip(kinds) {
            match kind {
                // `ack_keyed.lua` replies with the count alone.
                Kind::Ack if matches!(reply, Value::Int(_)) => report.acked += count(&reply)?,
                Kind::Ack => {
                    let parts = array_reply(reply, OP)?;
                    if parts.len() != 2 {
                        return Err(Error::protocol(OP, "ack reply is not {acked, released}"));
                    }
                    report.acked += count(&parts[0])?;
                    report.released += count(&parts[1])?;
                }
                Kind::AckParents => {
                    let parts = array_reply(reply, OP)?;
                    let Some(acked) = parts.first() else {
                        return Err(Error::protocol(OP, "ack_parents reply is empty"));
                    };
                    report.acked += count(acked)?;
                    report
                        .releases
                        .extend(parts.iter().skip(1).filter_map(text_reply));
                }
                Kind::Retry => report.retried += count(&reply)?,
                Kind::Bury => {
                    let parts = array_reply(reply, OP)?;
                    if parts.len() < 2 {
                        return Err(Error::protocol(
                            OP,
                            "bury reply is not {buried, trimmed, …}",
                        ));
                    }
                    report.buried += count(&parts[0])?;
                    report.trimmed += count(&parts[1])?;
                    report
                        .releases
                        .extend(parts.iter().skip(2).filter_map(text_reply));
                }
            }
        }
        Ok(report)
    }
}

/// What a `bury.lua` call sends besides the dead set's keys.
#[derive(Clone, Copy)]
enum Bury<'a> {
    /// Jobs without dependents; `flow_ready` (the queue's ready flow keys)
    /// when some of the batch's jobs are keyed, so their keys are released.
    Plain { flow_ready: Option<&'a str> },
    /// Jobs with dependents: the flow keys are always released, and the
    /// jobs' parent keys go along so their deaths are recorded for their
    /// dependents.
    Parents,
}

/// One `bury.lua` call (KEYS as in its header).
fn bury_call(
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

/// The parent hash of the job leased under `id`.
fn parent_key(queue: &QueueKeys, id: &[u8]) -> String {
    queue.parent(&String::from_utf8_lossy(id))
}

#[derive(Clone, Copy)]
enum Kind {
    Ack,
    AckParents,
    Retry,
    Bury,
}

fn count(reply: &Value) -> Result<u64, Error> {
    Ok(u64::try_from(int_reply(reply, "complete")?).unwrap_or(0))
}
