//! Completion transitions: `ack.lua` (which also frees the uniqueness
//! locks of unique jobs that succeeded, given as keys), `ack_keyed.lua` (a
//! batch with keyed jobs), `retry.lua` and `bury.lua`. Jobs enqueued with
//! dependents are acknowledged by `ack_parents.lua` and buried by
//! `bury.lua` with their parent keys, which also file release outbox
//! entries (applied by `releases.rs`).
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
//! Jobs of a batch (their envelope names one) are routed to calls of their
//! own, one per batch and kind of ending: `ack_batch.lua`, `retry.lua`
//! with the batch key, `bury_batch.lua`, which count the end in the batch
//! in the same step (and enqueue its callbacks when it completes). Plain
//! batches leave these lists empty and pay nothing.
//!
//! For a queue with flow limits the round trip ends with
//! `wake_waiters.lua`, which wakes the workers waiting for a slot of its
//! running limit (`CompletionBatch::wake_waiters`).
//!
//! The same scripts count the jobs they end in the queue's counters
//! (`processed` for successes, `failed` for failed attempts and deaths;
//! snoozes count nothing), once per call, for only the jobs this worker
//! still held: see `count_ended` in include/lib.lua.

use std::collections::HashSet;

use redis::Value;
use uuid::Uuid;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::ops::ack::{ack_call, parse_ack_reply};
use crate::store::ops::ack_batch::{ack_batch_call, parse_ack_batch_reply};
use crate::store::ops::ack_keyed::{ack_keyed_call, parse_ack_keyed_reply};
use crate::store::ops::ack_parents::{ack_parents_call, parse_ack_parents_reply};
use crate::store::ops::ack_steps::{ack_steps_call, parse_ack_steps_reply};
use crate::store::ops::bury::{Bury, BuryEntry, DeadLimits, bury_call, parse_bury_reply};
use crate::store::ops::bury_batch::{bury_batch_call, parse_bury_batch_reply};
use crate::store::ops::retry::{RetryEntry, parse_retry_reply, retry_batch_call, retry_call};
use crate::store::ops::wake_waiters::wake_waiters_call;
use crate::store::scripts::MAX_RECORDS_PER_CALL;
use crate::store::scripts::{Call, invoke_pipelined};

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
    /// Results (JSON) left by jobs among `parent_acks`, by leased id:
    /// `ack_parents.lua` keeps them in the jobs' parent hashes for their
    /// dependents (`JobContext::parent_result`). Plain jobs never fill it.
    pub parent_results: Vec<(Vec<u8>, String)>,
    /// Jobs with dependents for the dead set (`bury.lua` with their
    /// parent keys, and the flow-key release).
    pub parent_buries: Vec<BuryEntry>,
    /// True when the queue has flow limits: after the ending calls, in the
    /// same round trip, `wake_waiters.lua` wakes the workers waiting for a
    /// slot of its running limit (plain queues skip it).
    pub wake_waiters: bool,
    /// Ids (as leased) of durable jobs (their run used the memo of steps,
    /// sleeps or signals) that succeeded: `ack_steps.lua` drops them with
    /// their memos. Plain jobs never land here.
    pub step_acks: Vec<Vec<u8>>,
    /// Jobs of batches (their envelope names one), by batch id: routed to
    /// the batch-aware calls. Empty for plain jobs.
    pub batch_jobs: BatchEndings,
}

/// The endings of jobs that belong to batches, each with its batch id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchEndings {
    /// Succeeded (`ack_batch.lua`).
    pub acks: Vec<(Uuid, Vec<u8>)>,
    /// Failed with attempts left, or snoozed (`retry.lua` with the batch key).
    pub retries: Vec<(Uuid, RetryEntry)>,
    /// For the dead set (`bury_batch.lua`).
    pub buries: Vec<(Uuid, BuryEntry)>,
}

impl BatchEndings {
    /// Number of jobs.
    pub fn len(&self) -> usize {
        self.acks.len() + self.retries.len() + self.buries.len()
    }

    /// True when no job of a batch ended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The distinct batch ids, in order of first appearance.
    fn batch_ids(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = Vec::new();
        let all = self.acks.iter().map(|(id, _)| *id);
        let all = all.chain(self.retries.iter().map(|(id, _)| *id));
        for id in all.chain(self.buries.iter().map(|(id, _)| *id)) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
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
            + self.step_acks.len()
            + self.batch_jobs.len()
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
    /// succeeded or died, and for the parent batches of child batches
    /// that completed: apply them with [`Store::apply_releases`].
    pub releases: Vec<String>,
    /// Batch callbacks enqueued because a batch completed (or a job of
    /// it died first) with these jobs.
    pub batch_callbacks: u64,
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
        let mut calls = Self {
            calls: Vec::with_capacity(3),
        };
        let flow_ready = batch.keyed.then(|| queue.flow_ready());
        calls.pack_acks(queue, active_key, batch, flow_ready.as_deref());
        for chunk in batch.parent_acks.chunks(MAX_RECORDS_PER_CALL) {
            let call = ack_parents_call(queue, active_key, chunk, &batch.parent_results);
            calls.push(call, Kind::AckParents);
        }
        for chunk in batch.step_acks.chunks(MAX_RECORDS_PER_CALL) {
            calls.push(ack_steps_call(queue, active_key, chunk), Kind::AckSteps);
        }
        // Failed attempts and snoozes go in calls of their own (snoozes
        // are rare), so the script counts a call's jobs with one HINCRBY.
        for failed in [true, false] {
            let entries: Vec<&RetryEntry> = batch
                .retries
                .iter()
                .filter(|entry| entry.failed == failed)
                .collect();
            for chunk in entries.chunks(MAX_RECORDS_PER_CALL) {
                let call = retry_call(queue, active_key, flow_ready.as_deref(), failed, chunk);
                calls.push(call, Kind::Retry);
            }
        }
        let plain = Bury::Plain {
            flow_ready: flow_ready.as_deref(),
        };
        for (entries, extra) in [
            (&batch.buries, plain),
            (&batch.parent_buries, Bury::Parents),
        ] {
            for chunk in entries.chunks(MAX_RECORDS_PER_CALL) {
                let call = bury_call(queue, active_key, chunk, dead_limits, extra);
                calls.push(call, Kind::Bury);
            }
        }
        if !batch.batch_jobs.is_empty() {
            calls.pack_batch_jobs(queue, active_key, &batch.batch_jobs, dead_limits);
        }
        // Last, so a worker that found the queue full before these jobs
        // left is woken (one that looks after them sees the free slots).
        if batch.wake_waiters && !calls.is_empty() {
            calls.push(wake_waiters_call(queue), Kind::Wake);
        }
        calls
    }

    /// The acknowledgements of jobs without dependents. A plain batch's
    /// unique acknowledgements carry their locks (freed in the same step by
    /// `ack.lua`); the other acknowledgements are ids only (`ack_keyed.lua`,
    /// for a batch with keyed jobs, finds the locks from the records).
    fn pack_acks(
        &mut self,
        queue: &QueueKeys,
        active_key: &str,
        batch: &CompletionBatch,
        flow_ready: Option<&str>,
    ) {
        let unique_acks = if flow_ready.is_none() {
            batch.unique_acks()
        } else {
            Vec::new()
        };
        for chunk in unique_acks.chunks(MAX_RECORDS_PER_CALL) {
            let locks: Vec<String> = chunk
                .iter()
                .map(|(_, digest)| queue.unique(digest))
                .collect();
            let ids: Vec<&[u8]> = chunk.iter().map(|(id, _)| *id).collect();
            self.push(ack_call(queue, active_key, &locks, &ids), Kind::Ack);
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
        for chunk in plain_acks.chunks(MAX_RECORDS_PER_CALL) {
            match flow_ready {
                None => self.push(ack_call(queue, active_key, &[], chunk), Kind::Ack),
                Some(flow_ready) => self.push(
                    ack_keyed_call(queue, active_key, flow_ready, chunk),
                    Kind::AckKeyed,
                ),
            }
        }
    }

    /// The endings of batch jobs: per batch, one call per kind of ending.
    fn pack_batch_jobs(
        &mut self,
        queue: &QueueKeys,
        active_key: &str,
        jobs: &BatchEndings,
        dead_limits: DeadLimits,
    ) {
        for batch_id in jobs.batch_ids() {
            let bid = batch_id.to_string();
            let acks: Vec<Vec<u8>> = jobs
                .acks
                .iter()
                .filter(|(id, _)| *id == batch_id)
                .map(|(_, leased)| leased.clone())
                .collect();
            for chunk in acks.chunks(MAX_RECORDS_PER_CALL) {
                let call = ack_batch_call(queue, active_key, &bid, chunk);
                self.push(call, Kind::AckBatch);
            }
            let batch_key = queue.batch(&bid);
            for failed in [true, false] {
                let entries: Vec<&RetryEntry> = jobs
                    .retries
                    .iter()
                    .filter(|(id, entry)| *id == batch_id && entry.failed == failed)
                    .map(|(_, entry)| entry)
                    .collect();
                for chunk in entries.chunks(MAX_RECORDS_PER_CALL) {
                    let call = retry_batch_call(queue, active_key, &batch_key, failed, chunk);
                    self.push(call, Kind::Retry);
                }
            }
            let buries: Vec<BuryEntry> = jobs
                .buries
                .iter()
                .filter(|(id, _)| *id == batch_id)
                .map(|(_, entry)| entry.clone())
                .collect();
            for chunk in buries.chunks(MAX_RECORDS_PER_CALL) {
                let call = bury_batch_call(queue, active_key, &bid, chunk, dead_limits);
                self.push(call, Kind::BuryBatch);
            }
        }
    }

    fn push(&mut self, call: Call, kind: Kind) {
        self.calls.push((call, kind));
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
        let packed = CompletionCalls::pack(queue, active_key, batch, dead_limits);
        let (script_calls, kinds): (Vec<Call>, Vec<Kind>) = packed.calls.into_iter().unzip();
        let replies = invoke_pipelined(&mut self.conn.clone(), &script_calls, "complete").await?;
        let mut report = CompletionReport::default();
        for (reply, kind) in replies.into_iter().zip(kinds) {
            report.add(kind, reply)?;
        }
        Ok(report)
    }
}

impl CompletionReport {
    /// Adds one call's reply.
    fn add(&mut self, kind: Kind, reply: Value) -> Result<(), Error> {
        match kind {
            Kind::Ack => {
                let (acked, released) = parse_ack_reply(reply)?;
                self.acked += acked;
                self.released += released;
            }
            Kind::AckKeyed => self.acked += parse_ack_keyed_reply(&reply)?,
            Kind::AckParents => {
                let (acked, releases) = parse_ack_parents_reply(reply)?;
                self.acked += acked;
                self.releases.extend(releases);
            }
            Kind::AckSteps => self.acked += parse_ack_steps_reply(&reply)?,
            Kind::Retry => self.retried += parse_retry_reply(&reply)?,
            Kind::Bury => {
                let (buried, trimmed, releases) = parse_bury_reply(reply)?;
                self.buried += buried;
                self.trimmed += trimmed;
                self.releases.extend(releases);
            }
            Kind::AckBatch => {
                let (acked, fired, told) = parse_ack_batch_reply(reply)?;
                self.acked += acked;
                self.batch_callbacks += fired;
                self.releases.extend(told);
            }
            Kind::BuryBatch => {
                let (buried, trimmed, fired, told) = parse_bury_batch_reply(reply)?;
                self.buried += buried;
                self.trimmed += trimmed;
                self.batch_callbacks += fired;
                self.releases.extend(told);
            }
            Kind::Wake => {}
        }
        Ok(())
    }
}

/// Which script a packed call runs, to read its reply.
#[derive(Clone, Copy)]
enum Kind {
    Ack,
    AckKeyed,
    AckParents,
    AckSteps,
    Retry,
    Bury,
    AckBatch,
    BuryBatch,
    Wake,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::Keys;

    fn queue() -> QueueKeys {
        Keys::new("jq").unwrap().queue("mail").unwrap()
    }

    #[test]
    fn plain_acknowledgements_stay_one_call_with_no_batch_work() {
        let batch = CompletionBatch {
            acks: vec![b"a".to_vec(), b"b".to_vec()],
            ..CompletionBatch::default()
        };
        let packed = CompletionCalls::pack(&queue(), "active", &batch, DeadLimits::default());
        assert_eq!(packed.len(), 1);
        assert!(matches!(packed.calls[0].1, Kind::Ack));
    }

    #[test]
    fn batch_jobs_go_to_one_call_per_batch_and_kind_of_ending() {
        let (one, two) = (Uuid::now_v7(), Uuid::now_v7());
        let mut batch = CompletionBatch {
            acks: vec![b"plain".to_vec()],
            ..CompletionBatch::default()
        };
        batch.batch_jobs.acks = vec![
            (one, b"a".to_vec()),
            (two, b"b".to_vec()),
            (one, b"c".to_vec()),
        ];
        batch.batch_jobs.buries = vec![(
            one,
            BuryEntry {
                leased_id: b"d".to_vec(),
                dead_id: "d".into(),
                record: b"{}".to_vec(),
            },
        )];
        assert_eq!(batch.len(), 5);
        let packed = CompletionCalls::pack(&queue(), "active", &batch, DeadLimits::default());
        let kinds: Vec<&str> = packed
            .calls
            .iter()
            .map(|(_, kind)| match kind {
                Kind::Ack => "ack",
                Kind::AckBatch => "ack_batch",
                Kind::BuryBatch => "bury_batch",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["ack", "ack_batch", "bury_batch", "ack_batch"]);
    }
}
