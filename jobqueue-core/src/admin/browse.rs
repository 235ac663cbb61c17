//! Paginated, filtered listings and "all matching" bulk actions.
//!
//! A page is read by rank windows from a cursor (a position in the state's
//! listing order), so a page costs O(page size) when no filter is set. With
//! a filter, one page scans at most [`MAX_SCAN_PER_PAGE`] jobs from the
//! cursor and returns what matched plus the cursor to continue from: the
//! cost stays bounded however large the set is, and the caller pages on.

use serde::{Deserialize, Serialize};

use crate::admin::filter::JobFilter;
use crate::admin::handle::{Admin, BULK_BATCH, MAX_PAGE_SIZE};
use crate::admin::jobs::{JobInfo, JobSet, JobState};
use crate::error::Error;
use crate::store::keys::QueueKeys;

/// Most jobs one filtered page looks at before it returns.
pub const MAX_SCAN_PER_PAGE: usize = 5000;

/// How many records one scan step reads.
const SCAN_WINDOW: usize = 500;

/// A state whose jobs can be listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowseState {
    /// Ready to run, in the order they will run (prioritised first).
    Ready,
    /// Ready but waiting in their flow keys' lists (keyed flow control):
    /// key by key, running keys first, then ready ones in serving order,
    /// each key's jobs in the order they will run. Covers the first 1000
    /// keys with work (see `browse_keyed.rs`).
    Keyed,
    /// Scheduled for later, soonest first.
    Scheduled,
    /// Waiting for a retry, soonest first.
    Retry,
    /// Dead, most recent first.
    Dead,
    /// Leased by workers.
    Active,
    /// Waiting for their parents, oldest first.
    Waiting,
    /// Cancelled by an operator, most recent first (bounded set).
    Cancelled,
    /// Dropped unstarted after their expiry, most recent first (bounded set).
    Expired,
    /// Durable jobs in a durable sleep (`JobContext::sleep`), soonest wake
    /// first: the entries of the `P:{Q}:sleeping` index not yet due (the
    /// jobs are in the retry set).
    Sleeping,
    /// Durable jobs parked waiting for a signal
    /// (`JobContext::wait_for_signal`), soonest deadline first: the
    /// entries of the `P:{Q}:signal_wait` index not yet due.
    WaitingForSignal,
}

impl BrowseState {
    /// Every state, in the order a person reads them.
    pub const ALL: [BrowseState; 11] = [
        BrowseState::Ready,
        BrowseState::Keyed,
        BrowseState::Scheduled,
        BrowseState::Retry,
        BrowseState::Dead,
        BrowseState::Active,
        BrowseState::Waiting,
        BrowseState::Cancelled,
        BrowseState::Expired,
        BrowseState::Sleeping,
        BrowseState::WaitingForSignal,
    ];

    /// The lowercase name used in URLs and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            BrowseState::Ready => "ready",
            BrowseState::Keyed => "keyed",
            BrowseState::Scheduled => "scheduled",
            BrowseState::Retry => "retry",
            BrowseState::Dead => "dead",
            BrowseState::Active => "active",
            BrowseState::Waiting => "waiting",
            BrowseState::Cancelled => "cancelled",
            BrowseState::Expired => "expired",
            BrowseState::Sleeping => "sleeping",
            BrowseState::WaitingForSignal => "waiting-for-signal",
        }
    }

    /// Parses a state name (`retrying` is accepted for `retry`).
    pub fn parse(name: &str) -> Result<Self, Error> {
        match name {
            "ready" => Ok(BrowseState::Ready),
            "keyed" => Ok(BrowseState::Keyed),
            "scheduled" => Ok(BrowseState::Scheduled),
            "retry" | "retrying" => Ok(BrowseState::Retry),
            "dead" => Ok(BrowseState::Dead),
            "active" => Ok(BrowseState::Active),
            "waiting" => Ok(BrowseState::Waiting),
            "cancelled" => Ok(BrowseState::Cancelled),
            "expired" => Ok(BrowseState::Expired),
            "sleeping" => Ok(BrowseState::Sleeping),
            "waiting-for-signal" | "waiting_for_signal" => Ok(BrowseState::WaitingForSignal),
            other => Err(Error::InvalidArgument {
                op: "browse",
                message: format!(
                    "unknown job state {other:?}: use ready, keyed, scheduled, retry, dead, \
                     active, waiting, cancelled, expired, sleeping or waiting-for-signal"
                ),
            }),
        }
    }

    /// The waiting set behind this state, for the states that have one.
    pub fn set(&self) -> Option<JobSet> {
        match self {
            BrowseState::Scheduled => Some(JobSet::Scheduled),
            BrowseState::Retry => Some(JobSet::Retry),
            BrowseState::Dead => Some(JobSet::Dead),
            BrowseState::Waiting => Some(JobSet::Waiting),
            BrowseState::Ready
            | BrowseState::Keyed
            | BrowseState::Active
            | BrowseState::Cancelled
            | BrowseState::Expired
            | BrowseState::Sleeping
            | BrowseState::WaitingForSignal => None,
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobPage {
    /// The jobs on this page.
    pub jobs: Vec<JobInfo>,
    /// Jobs in the state (matching or not).
    pub total: u64,
    /// The cursor this page started at.
    pub cursor: u64,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<u64>,
    /// Jobs looked at to fill this page (more than its length when filtered).
    pub scanned: u64,
}

/// What a bulk action does to each matching job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    /// Make it ready now (retry a dead or retrying job, run a scheduled job now).
    Retry,
    /// Delete it.
    Delete,
}

impl Admin {
    /// One page of `state` on `queue` from `cursor`, filtered (see the module docs).
    pub async fn browse(
        &self,
        queue: &str,
        state: BrowseState,
        filter: &JobFilter,
        cursor: u64,
        limit: usize,
    ) -> Result<JobPage, Error> {
        let q = self.store.queue_keys(queue)?;
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let total = self.state_size(&q, state).await?;
        let mut jobs = Vec::new();
        let mut pos = cursor;
        let mut scanned: u64 = 0;
        while jobs.len() < limit && pos < total && scanned < MAX_SCAN_PER_PAGE as u64 {
            let want = if filter.is_empty() {
                limit - jobs.len()
            } else {
                SCAN_WINDOW.min(MAX_SCAN_PER_PAGE - scanned as usize)
            };
            let window = self.window(&q, state, pos, want).await?;
            if window.is_empty() {
                break;
            }
            for job in window {
                pos += 1;
                scanned += 1;
                if let Some(job) = job.filter(|job| filter.matches(job)) {
                    jobs.push(job);
                    if jobs.len() == limit {
                        break;
                    }
                }
            }
        }
        Ok(JobPage {
            jobs,
            total,
            cursor,
            next_cursor: (pos < total).then_some(pos),
            scanned,
        })
    }

    /// Applies `action` to every job of `set` that matches `filter`, in
    /// batches of 1000 (each batch one bounded read and one script call).
    /// `progress` is told (jobs looked at, set size at the start) after
    /// each batch. Returns how many jobs were moved or deleted.
    pub async fn apply_matching(
        &self,
        queue: &str,
        set: JobSet,
        filter: &JobFilter,
        action: BulkAction,
        progress: impl FnMut(u64, u64),
    ) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        self.for_each_matching_batch(&q, BrowseState::from(set), filter, progress, |ids| {
            let q = &q;
            async move {
                let changed = match action {
                    BulkAction::Retry => {
                        self.store
                            .requeue(q, set.key(q), &ids, set == JobSet::Dead)
                            .await?
                    }
                    BulkAction::Delete => self.store.delete_jobs(q, set.key(q), &ids).await?,
                };
                self.forget_dependencies(q, set, &ids).await?;
                Ok(changed)
            }
        })
        .await
    }

    /// Deletes every keyed job of `queue` (waiting in its flow key's list)
    /// that matches `filter`, in batches of 1000, over the keys the
    /// **keyed** listing covers (the first 1000 keys with work). `progress`
    /// as for [`Admin::apply_matching`]. Returns how many were deleted.
    pub async fn delete_keyed_matching(
        &self,
        queue: &str,
        filter: &JobFilter,
        progress: impl FnMut(u64, u64),
    ) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        self.for_each_matching_batch(&q, BrowseState::Keyed, filter, progress, |ids| {
            let q = &q;
            async move { self.store.delete_keyed(q, &ids).await }
        })
        .await
    }

    /// Runs `action` on the ids of each window of `state` that match
    /// `filter`. `action` returns how many jobs it took out of the state;
    /// the next window starts after the ones it left, and the rounds are
    /// bounded by the state's size at the start, so a state that keeps
    /// filling up cannot keep the call going forever.
    async fn for_each_matching_batch<F, Fut>(
        &self,
        q: &QueueKeys,
        state: BrowseState,
        filter: &JobFilter,
        mut progress: impl FnMut(u64, u64),
        mut action: F,
    ) -> Result<u64, Error>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<u64, Error>>,
    {
        let size = self.state_size(q, state).await?;
        let max_rounds = size / BULK_BATCH as u64 + 2;
        let (mut pos, mut seen, mut done) = (0u64, 0u64, 0u64);
        for _ in 0..max_rounds {
            let window = self.window(q, state, pos, BULK_BATCH).await?;
            if window.is_empty() {
                break;
            }
            let len = window.len() as u64;
            let ids: Vec<String> = window
                .iter()
                .flatten()
                .filter(|job| filter.matches(job))
                .map(|job| job.id.to_string())
                .collect();
            let changed = if ids.is_empty() {
                0
            } else {
                action(ids).await?
            };
            done += changed;
            seen += len;
            pos += len.saturating_sub(changed);
            progress(seen, size);
        }
        Ok(done)
    }

    /// Jobs currently in `state`.
    async fn state_size(&self, q: &QueueKeys, state: BrowseState) -> Result<u64, Error> {
        match state {
            BrowseState::Ready => {
                let (ready, prioritised) = self.store.ready_sizes(q).await?;
                Ok(ready + prioritised)
            }
            BrowseState::Keyed => self.keyed_size(q).await,
            BrowseState::Active => Ok(self.queue(q.name()).await?.active),
            BrowseState::Cancelled | BrowseState::Expired => {
                self.store.set_size(&finished_key(q, state)).await
            }
            BrowseState::Sleeping | BrowseState::WaitingForSignal => {
                let now_ms = self.store.redis_time_ms().await?;
                let key = durable_index_key(q, state);
                self.store.index_size_after(&key, now_ms).await
            }
            _ => {
                let set = state.set().unwrap_or(JobSet::Dead);
                self.store.set_size(set.key(q)).await
            }
        }
    }

    /// Up to `count` jobs of `state` from rank `start` in listing order. A
    /// slot is `None` when its record vanished between the two reads.
    async fn window(
        &self,
        q: &QueueKeys,
        state: BrowseState,
        start: u64,
        count: usize,
    ) -> Result<Vec<Option<JobInfo>>, Error> {
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let name = q.name();
        match state {
            BrowseState::Ready => {
                // Prioritised jobs run first, so they come first.
                let prioritised = self.store.set_size(q.priority()).await?;
                let prioritised = usize::try_from(prioritised).unwrap_or(usize::MAX);
                let mut out = Vec::new();
                if start < prioritised {
                    out.extend(
                        self.list_prioritised(name, start, count)
                            .await?
                            .into_iter()
                            .map(Some),
                    );
                }
                if out.len() < count {
                    let list_start = start.saturating_sub(prioritised);
                    out.extend(
                        self.list_ready(name, list_start, count - out.len())
                            .await?
                            .into_iter()
                            .map(Some),
                    );
                }
                Ok(out)
            }
            BrowseState::Keyed => self.keyed_window(q, start, count).await,
            BrowseState::Active => Ok(self
                .list_active(name, MAX_PAGE_SIZE)
                .await?
                .into_iter()
                .skip(start)
                .take(count)
                .map(Some)
                .collect()),
            BrowseState::Cancelled | BrowseState::Expired => {
                let key = finished_key(q, state);
                let job_state = if state == BrowseState::Cancelled {
                    JobState::Cancelled
                } else {
                    JobState::Expired
                };
                self.ranked_slots(q, &key, true, job_state, start, count)
                    .await
            }
            BrowseState::Sleeping | BrowseState::WaitingForSignal => {
                self.durable_index_slots(q, state, start, count).await
            }
            _ => {
                let set = state.set().unwrap_or(JobSet::Dead);
                self.list_slots(q, set, start, count).await
            }
        }
    }

    /// One rank window of a waiting set with its records (dead: newest first).
    pub(super) async fn list_slots(
        &self,
        q: &QueueKeys,
        set: JobSet,
        start: usize,
        count: usize,
    ) -> Result<Vec<Option<JobInfo>>, Error> {
        self.ranked_slots(
            q,
            set.key(q),
            set == JobSet::Dead,
            JobState::from(set),
            start,
            count,
        )
        .await
    }

    /// One rank window of the sorted set `key` (newest first when
    /// `newest_first`) with its records, as jobs in `state`.
    async fn ranked_slots(
        &self,
        q: &QueueKeys,
        key: &str,
        newest_first: bool,
        state: JobState,
        start: usize,
        count: usize,
    ) -> Result<Vec<Option<JobInfo>>, Error> {
        let count = count.clamp(1, MAX_PAGE_SIZE);
        let entries = self.store.set_page(key, start, count, newest_first).await?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = entries.iter().map(|(id, _)| id.as_str()).collect();
        let records = self.store.stored_records(q, &ids).await?;
        Ok(entries
            .iter()
            .zip(records)
            .map(|((_, score), record)| {
                record.map(|r| JobInfo::from_record(q.name(), state, &r, Some(*score as i64)))
            })
            .collect())
    }
}

impl Admin {
    /// One rank window of the durable index behind `state` (sleeping or
    /// waiting for a signal), counting only entries not yet due (older
    /// ones are trimmed lazily by the scripts), with the jobs' records: they
    /// are in the retry set, shown with their wake time or deadline.
    async fn durable_index_slots(
        &self,
        q: &QueueKeys,
        state: BrowseState,
        start: usize,
        count: usize,
    ) -> Result<Vec<Option<JobInfo>>, Error> {
        let count = count.clamp(1, MAX_PAGE_SIZE);
        let now_ms = self.store.redis_time_ms().await?;
        let key = durable_index_key(q, state);
        let entries = self
            .store
            .index_page_after(&key, now_ms, start, count)
            .await?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = entries.iter().map(|(id, _)| id.as_str()).collect();
        let records = self.store.stored_records(q, &ids).await?;
        Ok(entries
            .iter()
            .zip(records)
            .map(|((_, score), record)| {
                let at = Some(*score as i64);
                record.map(|r| JobInfo::from_record(q.name(), JobState::Retry, &r, at))
            })
            .collect())
    }
}

/// The index of sleeping jobs or of jobs waiting for a signal (`state` is
/// one of those two).
fn durable_index_key(q: &QueueKeys, state: BrowseState) -> String {
    if state == BrowseState::Sleeping {
        q.sleeping()
    } else {
        q.signal_wait()
    }
}

/// The key of the cancelled or expired set (`state` is one of those two).
fn finished_key(q: &QueueKeys, state: BrowseState) -> String {
    if state == BrowseState::Cancelled {
        q.cancelled()
    } else {
        q.expired()
    }
}

impl From<JobSet> for BrowseState {
    fn from(set: JobSet) -> Self {
        match set {
            JobSet::Scheduled => BrowseState::Scheduled,
            JobSet::Retry => BrowseState::Retry,
            JobSet::Dead => BrowseState::Dead,
            JobSet::Waiting => BrowseState::Waiting,
        }
    }
}
