//! Bulk actions on a search result ([`Admin::act_on_search`]): retry,
//! delete or cancel the jobs of one search page, and return the cursor of
//! the next page, so a caller works through any number of matches in
//! bounded steps.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::admin::handle::Admin;
use crate::admin::jobs::{JobSet, JobState};
use crate::admin::search::{SearchHit, SearchPage};
use crate::admin::search_query::SearchQuery;
use crate::client::cancel::CancelOutcome;
use crate::error::Error;
use crate::wire::record::record_id_bytes;

/// What to do with the jobs a search found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchAction {
    /// Run now: scheduled, retrying, waiting and dead jobs (dead ones with
    /// fresh attempts). Others are skipped.
    Retry,
    /// Delete scheduled, retrying, waiting and dead jobs. Others are
    /// skipped (cancel a ready or running job instead).
    Delete,
    /// Cancel jobs that have not ended: ready, keyed, scheduled, retrying,
    /// waiting or running. Others are skipped. Ready jobs of the page (and
    /// tag hits filed nowhere by id) are looked for in one pass over the
    /// ready list and the priority set per page: O(ready jobs) reads in
    /// bounded windows.
    Cancel,
}

impl SearchAction {
    /// The name used in URLs, forms and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchAction::Retry => "retry",
            SearchAction::Delete => "delete",
            SearchAction::Cancel => "cancel",
        }
    }

    /// The action named `name` (`retry`, `delete`, `cancel`).
    pub fn parse(name: &str) -> Result<Self, Error> {
        match name {
            "retry" => Ok(SearchAction::Retry),
            "delete" => Ok(SearchAction::Delete),
            "cancel" => Ok(SearchAction::Cancel),
            other => Err(Error::invalid(
                "search",
                format!("unknown action {other:?}: retry, delete or cancel"),
            )),
        }
    }
}

/// What one page of a bulk action did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchActionReport {
    /// Jobs the search page found.
    pub found: u64,
    /// Jobs moved, deleted or cancelled.
    pub changed: u64,
    /// Jobs the action does not apply to where they are (or that moved
    /// or ended meanwhile).
    pub skipped: u64,
    /// Stored jobs or index entries the page read, and how many there are.
    pub scanned: u64,
    /// See [`SearchPage::total`].
    pub total: u64,
    /// Where the next page starts; `None` when the search is complete.
    pub next_cursor: Option<String>,
}

impl Admin {
    /// Runs `query` for one page from `cursor` (as [`Admin::search`]) and
    /// applies `action` to the jobs found. Returns what it did and where
    /// the next page starts.
    pub async fn act_on_search(
        &self,
        queue: &str,
        query: &SearchQuery,
        cursor: Option<&str>,
        action: SearchAction,
        limit: usize,
        budget: usize,
    ) -> Result<SearchActionReport, Error> {
        let page: SearchPage = self.search(queue, query, cursor, limit, budget).await?;
        let changed = self.act_on_hits(queue, action, &page.hits).await?;
        let found = page.hits.len() as u64;
        Ok(SearchActionReport {
            found,
            changed,
            skipped: found.saturating_sub(changed),
            scanned: page.scanned,
            total: page.total,
            next_cursor: page.next_cursor,
        })
    }

    /// Applies `action` to `hits`; returns how many jobs it changed.
    pub async fn act_on_hits(
        &self,
        queue: &str,
        action: SearchAction,
        hits: &[SearchHit],
    ) -> Result<u64, Error> {
        if action == SearchAction::Cancel {
            let mut cancelled = 0;
            let filed = hits.iter().filter(|hit| {
                hit.job
                    .as_ref()
                    .is_some_and(|job| cancellable(job.state) && job.state != JobState::Ready)
            });
            for hit in filed {
                if matches!(
                    self.cancel(queue, hit.id).await?,
                    CancelOutcome::Cancelled { .. }
                ) {
                    cancelled += 1;
                }
            }
            // Ready jobs (and tag hits filed nowhere by id: ready in the
            // plain list, or ended) are found in one pass over the ready
            // list and the priority set for the whole page.
            let unfiled: Vec<Uuid> = hits
                .iter()
                .filter(|hit| {
                    hit.job
                        .as_ref()
                        .is_none_or(|job| job.state == JobState::Ready)
                })
                .map(|hit| hit.id)
                .collect();
            return Ok(cancelled + self.cancel_ready(queue, &unfiled).await?);
        }
        let mut changed = 0;
        for set in JobSet::ALL {
            let ids: Vec<Uuid> = hits
                .iter()
                .filter(|hit| {
                    hit.job
                        .as_ref()
                        .is_some_and(|job| job.state == JobState::from(set))
                })
                .map(|hit| hit.id)
                .collect();
            if ids.is_empty() {
                continue;
            }
            changed += match action {
                SearchAction::Retry => self.retry(queue, set, &ids).await?,
                SearchAction::Delete | SearchAction::Cancel => {
                    self.delete(queue, set, &ids).await?
                }
            };
        }
        Ok(changed)
    }
}

impl Admin {
    /// Cancels those of `ids` that wait in the ready list or the priority
    /// set (a keyed ready job is found by id): one pass over both in
    /// windows (bounded commands, nothing long in Redis), each record found
    /// cancelled with `cancel.lua`. Ids found nowhere (ended) are skipped.
    /// Returns how many were cancelled.
    async fn cancel_ready(&self, queue: &str, ids: &[Uuid]) -> Result<u64, Error> {
        let keys = self.store.queue_keys(queue)?;
        let mut wanted: HashSet<String> = HashSet::new();
        let mut cancelled = 0;
        for &id in ids {
            // Keyed ready jobs (and any job that moved to a set) by id first.
            match self.store.cancel_once(&keys, id, None).await? {
                Some(from) => {
                    self.cancelled(&keys, id, from).await?;
                    cancelled += 1;
                }
                None => {
                    wanted.insert(id.to_string());
                }
            }
        }
        for prioritised in [false, true] {
            let mut offset = 0;
            while !wanted.is_empty() {
                let records = self
                    .store
                    .ready_records(&keys, prioritised, offset, READY_WINDOW)
                    .await?;
                if records.is_empty() {
                    break;
                }
                let mut removed = 0;
                for record in &records {
                    let Some(id) = record_id_bytes(record)
                        .and_then(|bytes| std::str::from_utf8(bytes).ok())
                        .filter(|id| wanted.remove(*id))
                        .and_then(|id| id.parse::<Uuid>().ok())
                    else {
                        continue;
                    };
                    if let Some(from) = self.store.cancel_once(&keys, id, Some(record)).await? {
                        self.cancelled(&keys, id, from).await?;
                        cancelled += 1;
                        removed += 1;
                    }
                }
                offset += records.len() - removed;
            }
        }
        Ok(cancelled)
    }
}

/// Records of the ready list read per command when cancelling ready jobs.
const READY_WINDOW: usize = 1000;

/// True for a state a job can be cancelled from.
fn cancellable(state: JobState) -> bool {
    matches!(
        state,
        JobState::Ready
            | JobState::Scheduled
            | JobState::Retry
            | JobState::Waiting
            | JobState::Active
    )
}
