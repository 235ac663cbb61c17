//! Finding jobs ([`Admin::search`]): by tag, an index look-up that costs
//! O(page); by job id, one look-up; by id prefix, job type, batch or
//! payload field, a **bounded scan with a budget**: one page reads at most `budget`
//! stored jobs (in the jobs hash, `HSCAN`'s `COUNT` is a hint and a step may
//! return a few more: whole hash buckets), says how many it scanned of how
//! many there are, and returns
//! a cursor to continue from. Every step is one bounded read command (no
//! script), so a search never holds Redis up however many jobs there are.
//!
//! A scan goes through the jobs hash (scheduled, retrying, dead, waiting,
//! cancelled, expired and keyed jobs) with `HSCAN`, then the ready list,
//! then the priority set, by offset. Jobs leased by workers are not
//! scanned (they are found by tag or full id). A job that moves while a
//! scan goes on may be missed or seen twice, as with any cursor over a
//! live queue.

use futures_util::future::try_join_all;
use serde::Serialize;
use uuid::Uuid;

use crate::admin::handle::{Admin, MAX_PAGE_SIZE};
use crate::admin::jobs::{JobInfo, JobState};
use crate::admin::search_query::SearchQuery;
use crate::error::Error;
use crate::store::keys::QueueKeys;

/// Stored jobs a scanning search reads per page unless told otherwise.
pub const DEFAULT_SEARCH_BUDGET: usize = 10_000;

/// Most stored jobs one page of a scanning search may read.
pub const MAX_SEARCH_BUDGET: usize = 100_000;

/// Records one scan step reads (one command).
const SCAN_STEP: usize = 200;

/// One job a search found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// The job id.
    pub id: Uuid,
    /// The job where it is now; `None` when it is in no place filed by id:
    /// a tag's entry for a job that ended (succeeded, or was trimmed or
    /// purged) or that waits in the plain ready list (found by a scan).
    pub job: Option<JobInfo>,
}

/// One page of a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchPage {
    /// What was found on this page (a scan page may hold up to one scan
    /// step more than the limit asked).
    pub hits: Vec<SearchHit>,
    /// Where to continue; `None` when the search is complete.
    pub next_cursor: Option<String>,
    /// Index entries (tag) or stored jobs (scan) read by this page.
    pub scanned: u64,
    /// Index entries (tag) or stored jobs (scan: jobs hash, ready list,
    /// priority set) there are: "scanned N of M".
    pub total: u64,
    /// True when the page came from an index (or a full id's look-up), not a scan.
    pub indexed: bool,
}

/// Where a scanning search stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScanPosition {
    /// In the jobs hash, at this `HSCAN` cursor.
    Stored(u64),
    /// In the ready list, at this offset.
    Ready(usize),
    /// In the priority set, at this rank.
    Prioritised(usize),
    /// Done.
    Done,
}

impl ScanPosition {
    fn parse(cursor: Option<&str>) -> Result<Self, Error> {
        let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
            return Ok(ScanPosition::Stored(0));
        };
        let (kind, number) = cursor.split_at(1);
        let bad = || {
            Error::invalid(
                "search",
                format!("search cursor {cursor:?} is not one a search returned"),
            )
        };
        match kind {
            "j" => number.parse().map(ScanPosition::Stored).map_err(|_| bad()),
            "r" => number.parse().map(ScanPosition::Ready).map_err(|_| bad()),
            "p" => number
                .parse()
                .map(ScanPosition::Prioritised)
                .map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    fn cursor(self) -> Option<String> {
        match self {
            ScanPosition::Stored(at) => Some(format!("j{at}")),
            ScanPosition::Ready(at) => Some(format!("r{at}")),
            ScanPosition::Prioritised(at) => Some(format!("p{at}")),
            ScanPosition::Done => None,
        }
    }
}

impl Admin {
    /// One page of the jobs of `queue` that `query` finds, from `cursor`
    /// (`None` starts; pass back a page's `next_cursor`). `limit` bounds
    /// the hits (1..=[`MAX_PAGE_SIZE`]), `budget` the stored jobs a scan
    /// reads (1..=[`MAX_SEARCH_BUDGET`]; a tag search reads `limit` index
    /// entries). See the module docs for the cost of each kind.
    pub async fn search(
        &self,
        queue: &str,
        query: &SearchQuery,
        cursor: Option<&str>,
        limit: usize,
        budget: usize,
    ) -> Result<SearchPage, Error> {
        let q = self.store.queue_keys(queue)?;
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        if let SearchQuery::Tag(tag) = query {
            return self.search_tag(queue, &q, tag, cursor, limit).await;
        }
        if cursor.is_none()
            && let Some(id) = query.full_id()
            && let Some(job) = self.job(queue, id).await?
        {
            return Ok(SearchPage {
                hits: vec![SearchHit { id, job: Some(job) }],
                next_cursor: None,
                scanned: 1,
                total: 1,
                indexed: true,
            });
        }
        let budget = budget.clamp(1, MAX_SEARCH_BUDGET);
        self.search_scan(
            queue,
            &q,
            query,
            ScanPosition::parse(cursor)?,
            limit,
            budget,
        )
        .await
    }

    /// A page of a tag's index, newest first; each id looked up where it is now.
    async fn search_tag(
        &self,
        queue: &str,
        q: &QueueKeys,
        tag: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<SearchPage, Error> {
        let before = match cursor.filter(|c| !c.is_empty()) {
            Some(text) => Some(text.parse::<Uuid>().map_err(|_| {
                Error::invalid(
                    "search",
                    format!("search cursor {text:?} is not one a search returned"),
                )
            })?),
            None => None,
        };
        let before_text = before.map(|id| id.to_string());
        let total = self.store.tag_size(q, tag).await?;
        let ids = self
            .store
            .tag_page(q, tag, before_text.as_deref(), limit)
            .await?;
        let hits = self
            .hits_where_they_are(queue, ids.iter().filter_map(|text| text.parse().ok()))
            .await?;
        let next_cursor = (ids.len() == limit).then(|| ids.last().cloned()).flatten();
        Ok(SearchPage {
            hits,
            next_cursor,
            scanned: ids.len() as u64,
            total,
            indexed: true,
        })
    }

    /// Each of `ids` looked up where it is now ([`Admin::job`]), the
    /// look-ups sent together (the connection pipelines them): a page
    /// costs a few round trips, not a few per hit.
    async fn hits_where_they_are(
        &self,
        queue: &str,
        ids: impl Iterator<Item = Uuid>,
    ) -> Result<Vec<SearchHit>, Error> {
        try_join_all(ids.map(|id| async move {
            Ok::<_, Error>(SearchHit {
                id,
                job: self.job(queue, id).await?,
            })
        }))
        .await
    }

    /// A bounded scan from `position` (see the module docs).
    async fn search_scan(
        &self,
        queue: &str,
        q: &QueueKeys,
        query: &SearchQuery,
        mut position: ScanPosition,
        limit: usize,
        budget: usize,
    ) -> Result<SearchPage, Error> {
        let (stored, ready, prioritised) = self.store.searchable_sizes(q).await?;
        let mut hits = Vec::new();
        let mut scanned = 0usize;
        while hits.len() < limit && scanned < budget {
            let step = SCAN_STEP.min(budget - scanned);
            position = match position {
                ScanPosition::Stored(at) => {
                    let (next, pairs) = self.store.scan_stored_records(q, at, step).await?;
                    scanned += pairs.len();
                    let matched = pairs
                        .into_iter()
                        .filter(|(_, record)| query.matches_record(record))
                        .filter_map(|(id, _)| id.parse::<Uuid>().ok())
                        .collect::<Vec<_>>();
                    hits.extend(self.hits_where_they_are(queue, matched.into_iter()).await?);
                    if next == 0 {
                        ScanPosition::Ready(0)
                    } else {
                        ScanPosition::Stored(next)
                    }
                }
                ScanPosition::Ready(at) | ScanPosition::Prioritised(at) => {
                    let prioritised = matches!(position, ScanPosition::Prioritised(_));
                    let step = step.min(limit.saturating_mul(SCAN_STEP));
                    let records = self.store.ready_records(q, prioritised, at, step).await?;
                    let mut read = 0;
                    for record in &records {
                        read += 1;
                        if query.matches_record(record) {
                            let job = JobInfo::from_record(queue, JobState::Ready, record, None);
                            hits.push(SearchHit {
                                id: job.id,
                                job: Some(job),
                            });
                            if hits.len() == limit {
                                break;
                            }
                        }
                    }
                    scanned += read;
                    match (prioritised, read == 0) {
                        (false, true) => ScanPosition::Prioritised(0),
                        (true, true) => ScanPosition::Done,
                        (false, false) => ScanPosition::Ready(at + read),
                        (true, false) => ScanPosition::Prioritised(at + read),
                    }
                }
                ScanPosition::Done => break,
            };
        }
        Ok(SearchPage {
            hits,
            next_cursor: position.cursor(),
            scanned: scanned as u64,
            total: stored + ready + prioritised,
            indexed: false,
        })
    }
}
