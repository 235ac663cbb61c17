//! Keyed flow control: limits per key taken from the job.
//!
//! A job may carry a **flow key** `class:value` (e.g. `account:42`, or
//! `type:send_email` for a limit per job type), set with
//! [`crate::JobBuilder::flow_key`] or the [`crate::Job::flow_key`] hook.
//! Keyed jobs wait FIFO in their key's list; `fetch_limited.lua` serves the
//! ready keys round-robin beside the plain ready list, each key within its
//! class's [`KeyLimits`] (running limit and token bucket, on the Redis
//! clock, across every worker). A key at its limit holds back only its own
//! jobs. Every transition out of a worker (ack, retry, bury, cancel,
//! expire, handback, reclaim) releases the job's key in the same script.
//! See docs/flow-control.md and `src/lua/include/flow.lua`.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use crate::admin::handle::{Admin, MAX_PAGE_SIZE};
use crate::admin::jobs::{JobInfo, JobState};
use crate::error::Error;
pub use crate::job::flow_key::{
    MAX_FLOW_KEY_LEN, key_class, validate_flow_key, validate_key_class,
};
pub use crate::store::commands::limits::KeyLimits;
use crate::store::keys::QueueKeys;

/// One key class's configured limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassLimits {
    /// The class (`account` for keys `account:…`).
    pub class: String,
    /// Its limits.
    pub limits: KeyLimits,
}

/// One flow key with work, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowKeyInfo {
    /// The key.
    pub key: String,
    /// Its jobs waiting to run.
    pub waiting: u64,
    /// Its jobs leased by workers now.
    pub running: u64,
    /// The limits that apply to it (its class's, or the default).
    pub limits: KeyLimits,
    /// Its weight in the round-robin (its own, else its class's, else 1;
    /// see [`Admin::set_flow_weight`]).
    pub weight: u32,
}

impl Admin {
    /// Sets the limits of every key of `class` (`account` for keys
    /// `account:…`) on `queue`, replacing earlier ones. The scripts read
    /// them at every fetch, so they apply at once. Limits are per queue:
    /// all of a queue's keys live in its Redis Cluster slot. The bounds of
    /// [`Admin::set_queue_limits`] apply.
    pub async fn set_key_limits(
        &self,
        queue: &str,
        class: &str,
        limits: KeyLimits,
    ) -> Result<(), Error> {
        const OP: &str = "set_key_limits";
        validate_key_class(class)?;
        crate::admin::limits::validate_limits(
            OP,
            limits.max_running,
            limits.rate,
            "None: no running limit",
        )?;
        let keys = self.store().queue_keys(queue)?;
        self.store().register_queues([queue]).await?;
        self.store().store_key_limits(&keys, class, limits).await
    }

    /// Removes the limits of `class` on `queue`: its keys get
    /// [`KeyLimits::DEFAULT`] again. Returns false when the class had no
    /// limits set (nothing changed).
    pub async fn clear_key_limits(&self, queue: &str, class: &str) -> Result<bool, Error> {
        validate_key_class(class)?;
        let keys = self.store().queue_keys(queue)?;
        self.store().remove_key_limits(&keys, class).await
    }

    /// The configured key classes of `queue` and their limits, by class.
    pub async fn key_limits(&self, queue: &str) -> Result<Vec<ClassLimits>, Error> {
        let keys = self.store().queue_keys(queue)?;
        let stored = self.store().key_limits(&keys).await?;
        let mut out: Vec<ClassLimits> = stored
            .into_iter()
            .map(|(class, limits)| ClassLimits { class, limits })
            .collect();
        out.sort_by(|a, b| a.class.cmp(&b.class));
        Ok(out)
    }

    /// Flow keys of `queue` with work: the running ones and the ready or
    /// rate-parked ones, at most `limit` (up to 1000), each with its waiting
    /// and running counts and the limits that apply. Keys are listed
    /// running first, then ready ones in the order they will be served.
    pub async fn flow_keys(&self, queue: &str, limit: usize) -> Result<Vec<FlowKeyInfo>, Error> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let keys = self.store().queue_keys(queue)?;
        let (names, running) = self.flow_key_names(&keys, limit).await?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let waiting = self.store().flow_list_lengths(&keys, &names).await?;
        let classes = self.store().key_limits(&keys).await?;
        let weights = self.store().flow_weights(&keys).await?;
        Ok(names
            .into_iter()
            .zip(waiting)
            .map(|(key, waiting)| FlowKeyInfo {
                running: running.get(&key).copied().unwrap_or(0),
                limits: classes
                    .get(key_class(&key))
                    .copied()
                    .unwrap_or(KeyLimits::DEFAULT),
                weight: weights
                    .get(&key)
                    .or_else(|| weights.get(key_class(&key)))
                    .copied()
                    .unwrap_or(1),
                key,
                waiting,
            })
            .collect())
    }

    /// The flow keys of a queue with work, at most `limit` (1-1000): the
    /// running ones by name, then the ready or rate-parked ones in the
    /// order they will be served; and each running key's leased jobs.
    pub(crate) async fn flow_key_names(
        &self,
        keys: &QueueKeys,
        limit: usize,
    ) -> Result<(Vec<String>, HashMap<String, u64>), Error> {
        let (mut names, running) = self.flow_key_candidates(keys, limit).await?;
        names.truncate(limit.clamp(1, MAX_PAGE_SIZE));
        Ok((names, running))
    }

    /// [`Admin::flow_key_names`] before the cut to `limit`: up to `limit`
    /// running keys, then up to `limit` ready or rate-parked ones (a caller
    /// that drops keys with nothing waiting cuts after dropping).
    pub(crate) async fn flow_key_candidates(
        &self,
        keys: &QueueKeys,
        limit: usize,
    ) -> Result<(Vec<String>, HashMap<String, u64>), Error> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let (running, ready) = self.store().flow_key_candidates(keys, limit).await?;
        let running: HashMap<String, u64> = running.into_iter().collect();
        let mut names: Vec<String> = running.keys().cloned().collect();
        names.sort();
        for key in ready {
            if !running.contains_key(&key) {
                names.push(key);
            }
        }
        Ok((names, running))
    }

    /// Deletes keyed jobs of `queue` that wait in their flow keys' lists;
    /// returns how many were deleted (leased or finished ones are skipped:
    /// cancel a running job instead).
    pub async fn delete_keyed(&self, queue: &str, ids: &[Uuid]) -> Result<u64, Error> {
        let keys = self.store().queue_keys(queue)?;
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let mut deleted = 0;
        for chunk in ids.chunks(MAX_PAGE_SIZE) {
            deleted += self.store().delete_keyed(&keys, chunk).await?;
        }
        Ok(deleted)
    }

    /// One page of the jobs waiting for flow key `key` on `queue`, in the
    /// order they will run (state [`JobState::Ready`]).
    pub async fn list_flow_key(
        &self,
        queue: &str,
        key: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        validate_flow_key(key)?;
        let keys = self.store().queue_keys(queue)?;
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let windows = [(key, offset, limit)];
        let ids: Vec<String> = self
            .store()
            .flow_list_windows(&keys, &windows)
            .await?
            .into_iter()
            .flatten()
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let records = self.store().stored_records(&keys, &ids).await?;
        Ok(records
            .iter()
            .flatten()
            .map(|record| JobInfo::from_record(queue, JobState::Ready, record, None))
            .collect())
    }
}
