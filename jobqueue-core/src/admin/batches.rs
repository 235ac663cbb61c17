//! The operator side of batches: list a queue's batches with their counts
//! and callbacks, look at one, retry its dead jobs. Methods on
//! [`crate::Admin`], which the dashboard, JSON API and CLI build on.

use serde::Serialize;
use uuid::Uuid;

use crate::admin::handle::Admin;
use crate::error::Error;
use crate::store::keys::QueueKeys;

/// Most batches listed per page.
pub const MAX_BATCHES_PER_PAGE: usize = 200;

/// Where a batch is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Held by its producer or with jobs pending.
    Open,
    /// Every job ended and no producer holds it: on_complete fired.
    Finished,
    /// Cancelled by an operator: takes no more jobs, fires no callback.
    Cancelled,
}

/// One callback of a batch and whether it fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchCallback {
    /// `success`, `complete` or `death`.
    pub kind: &'static str,
    /// When it was enqueued (ms since the epoch), if it was.
    pub fired_at_ms: Option<i64>,
}

/// A batch named by its home queue and id (a child batch's parent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchLink {
    /// The batch's home queue (user text: escape it when shown).
    pub queue: String,
    /// The batch id.
    pub id: Uuid,
}

/// A child batch as its parent counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchChild {
    /// The child's home queue (user text: escape it when shown).
    pub queue: String,
    /// The child batch id.
    pub id: Uuid,
    /// Its unit in the parent: `pending`, `succeeded`, `dead` or
    /// `cancelled` (the last outcome the parent learned, through the
    /// child queue's release outbox: it may lag the child by a reaper
    /// interval).
    pub state: String,
}

/// Most child batches listed with a batch ([`Admin::batch`]).
pub const MAX_CHILDREN_SHOWN: usize = 200;

/// A batch as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchInfo {
    /// The batch id.
    pub id: Uuid,
    /// Its home queue.
    pub queue: String,
    /// The producer's description (user text: escape it when shown).
    pub description: String,
    /// Open or finished.
    pub state: BatchState,
    /// Jobs added so far.
    pub total: u64,
    /// Jobs not yet ended (running, ready or waiting for a retry).
    pub pending: u64,
    /// Jobs that succeeded.
    pub succeeded: u64,
    /// Failed attempts (a job retried twice counts two).
    pub failed_attempts: u64,
    /// Jobs dead now.
    pub dead: u64,
    /// Jobs cancelled with the batch.
    pub cancelled: u64,
    /// True while its producer holds it open (not sealed).
    pub held: bool,
    /// When it was created (ms since the epoch).
    pub created_ms: i64,
    /// When it finished (ms since the epoch), if it did.
    pub finished_ms: Option<i64>,
    /// Time left before its bookkeeping expires (ms), once finished.
    pub expires_in_ms: Option<i64>,
    /// Its callbacks (only the kinds it was given).
    pub callbacks: Vec<BatchCallback>,
    /// For a child batch: the parent batch it counts in as one job.
    pub parent: Option<BatchLink>,
    /// Its child batches (up to [`MAX_CHILDREN_SHOWN`]), each counted as
    /// one of its jobs; filled by [`Admin::batch`], empty in the lists of
    /// [`Admin::batches`].
    pub children: Vec<BatchChild>,
}

impl BatchInfo {
    /// Share of the jobs that ended, 0..=100 (100 for an empty batch).
    pub fn percent_done(&self) -> u8 {
        if self.total == 0 {
            return 100;
        }
        let ended = self.total.saturating_sub(self.pending);
        u8::try_from(ended.saturating_mul(100) / self.total).unwrap_or(100)
    }

    fn from_fields(id: Uuid, queue: &str, fields: &[Option<String>], ttl_ms: i64) -> Self {
        let text = |i: usize| fields.get(i).cloned().flatten();
        let number = |i: usize| text(i).and_then(|v| v.parse::<i64>().ok());
        let count = |i: usize| number(i).and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        let callbacks = ["success", "complete", "death"]
            .into_iter()
            .enumerate()
            .filter(|(i, _)| text(11 + i).is_some())
            .map(|(i, kind)| BatchCallback {
                kind,
                fired_at_ms: number(14 + i),
            })
            .collect();
        Self {
            id,
            queue: queue.to_owned(),
            description: text(7).unwrap_or_default(),
            state: match text(6).as_deref() {
                Some("finished") => BatchState::Finished,
                Some("cancelled") => BatchState::Cancelled,
                _ => BatchState::Open,
            },
            total: count(0),
            pending: count(1),
            succeeded: count(2),
            failed_attempts: count(3),
            dead: count(4),
            cancelled: count(17),
            held: count(5) > 0,
            created_ms: number(8).unwrap_or(0),
            finished_ms: number(9),
            expires_in_ms: (ttl_ms >= 0).then_some(ttl_ms),
            callbacks,
            parent: text(18).as_deref().and_then(|parent| {
                let (queue, id) = parent.rsplit_once('|')?;
                Some(BatchLink {
                    queue: queue.to_owned(),
                    id: Uuid::parse_str(id).ok()?,
                })
            }),
            children: Vec::new(),
        }
    }
}

impl Admin {
    /// One batch; [`Error::BatchNotFound`] when there is none (never
    /// created, or its retention is over).
    pub async fn batch(&self, queue: &str, id: Uuid) -> Result<BatchInfo, Error> {
        let keys = self.store.queue_keys(queue)?;
        let batch_id = id.to_string();
        match self.store.batch_fields(&keys, &batch_id).await? {
            Some((fields, ttl)) => {
                let mut info = BatchInfo::from_fields(id, queue, &fields, ttl);
                let children = self
                    .store
                    .batch_children(&keys, &batch_id, MAX_CHILDREN_SHOWN)
                    .await?;
                info.children = children
                    .into_iter()
                    .filter_map(|(child, seen)| {
                        let mut parts = seen.splitn(3, '|');
                        let (_generation, state, queue) =
                            (parts.next()?, parts.next()?, parts.next()?);
                        Some(BatchChild {
                            queue: queue.to_owned(),
                            id: Uuid::parse_str(&child).ok()?,
                            state: state.to_owned(),
                        })
                    })
                    .collect();
                Ok(info)
            }
            None => Err(Error::BatchNotFound {
                op: "batch",
                queue: queue.to_owned(),
                id,
            }),
        }
    }

    /// Up to `limit` ids of the batch's dead jobs (for its page and
    /// retry-dead), in no particular order.
    pub async fn batch_dead_ids(
        &self,
        queue: &str,
        id: Uuid,
        limit: usize,
    ) -> Result<Vec<Uuid>, Error> {
        let keys = self.store.queue_keys(queue)?;
        let ids = self
            .store
            .batch_dead_ids(&keys, &id.to_string(), limit)
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect())
    }

    /// A queue's batches, newest first: `limit` (at most
    /// [`MAX_BATCHES_PER_PAGE`]) from `offset`, optionally only those in
    /// `state`. Batches whose retention is over are skipped.
    pub async fn batches(
        &self,
        queue: &str,
        state: Option<BatchState>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<BatchInfo>, Error> {
        let keys = self.store.queue_keys(queue)?;
        let limit = limit.min(MAX_BATCHES_PER_PAGE);
        let mut out = Vec::new();
        for (id, _) in self.store.batch_index(&keys, offset, limit).await? {
            let Ok(uuid) = Uuid::parse_str(&id) else {
                continue;
            };
            if let Some((fields, ttl)) = self.store.batch_fields(&keys, &id).await? {
                let info = BatchInfo::from_fields(uuid, queue, &fields, ttl);
                if state.is_none_or(|wanted| wanted == info.state) {
                    out.push(info);
                }
            }
        }
        Ok(out)
    }

    /// Cancels a batch and, depth first, every child batch of it still
    /// pending in its parent (on any queue): each takes no more jobs and
    /// fires no callback, and its jobs waiting in the queue (ready or
    /// waiting for a retry) go to the cancelled set; jobs running now
    /// finish. Returns how many jobs were cancelled, children's included.
    ///
    /// Each batch is cancelled by its own paged script calls, so the
    /// cascade is not one atomic step: a failure part-way leaves the
    /// batches reached so far cancelled, and calling it again finishes
    /// the rest (cancelling a cancelled batch changes nothing).
    pub async fn batch_cancel(&self, queue: &str, id: Uuid) -> Result<u64, Error> {
        self.batch_cascade(queue, id, "pending", |keys, id| {
            Box::pin(async move { self.store.batch_cancel(&keys, id).await })
        })
        .await
    }

    /// Puts a batch's dead jobs back in its queue (counted pending in the
    /// batch again, so its on_success fires once they all succeed), and,
    /// depth first, those of every child batch its parent counts dead (on
    /// any queue), which opens each again in its parent. Returns how many
    /// jobs, children's included. As for [`Admin::batch_cancel`], each
    /// batch is its own paged step; calling it again finishes a cascade
    /// that failed part-way.
    pub async fn batch_retry_dead(&self, queue: &str, id: Uuid) -> Result<u64, Error> {
        self.batch_cascade(queue, id, "dead", |keys, id| {
            Box::pin(async move { self.store.batch_retry_dead(&keys, id).await })
        })
        .await
    }

    /// Applies `action` to batch `id` on `queue`, then to each child batch
    /// whose unit in its parent is `child_outcome`, depth first (an
    /// explicit stack, so any depth is fine). Returns the sum of the
    /// action's counts.
    async fn batch_cascade<'a, F>(
        &'a self,
        queue: &str,
        id: Uuid,
        child_outcome: &str,
        action: F,
    ) -> Result<u64, Error>
    where
        F: Fn(QueueKeys, Uuid) -> BatchAction<'a>,
    {
        let mut todo = vec![(queue.to_owned(), id)];
        let mut total = 0;
        while let Some((queue, id)) = todo.pop() {
            let keys = self.store.queue_keys(&queue)?;
            total += action(keys.clone(), id).await?;
            for (child, seen) in self
                .store
                .batch_children_all(&keys, &id.to_string())
                .await?
            {
                let mut parts = seen.splitn(3, '|');
                let (Some(_generation), Some(outcome), Some(child_queue)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                if outcome != child_outcome {
                    continue;
                }
                if let Ok(child) = Uuid::parse_str(&child) {
                    todo.push((child_queue.to_owned(), child));
                }
            }
        }
        Ok(total)
    }
}

/// One batch's step of a cascading operator action.
type BatchAction<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, Error>> + Send + 'a>>;
