//! Reads of the places a job can be — the ready list and priority set, the
//! sorted sets of waiting and finished jobs with their records in the jobs
//! hash, the workers' active hashes, a flow key's list — for the operator
//! API's listings. Each read is one bounded command (or one round trip).

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// Most lease holders of one queue asked for a running job's record.
const MAX_LEASE_HOLDERS: usize = 10_000;

/// Most cancelled or expired jobs kept per queue (the oldest go first;
/// `cancel.lua` and `expire.lua` trim to it).
pub const MAX_FINISHED_KEPT: u64 = 10_000;

/// Longest a cancelled or expired job is kept, ms (7 days).
pub const MAX_FINISHED_AGE_MS: u64 = 7 * 24 * 3600 * 1000;

/// A job's record and its score in each sorted set that files jobs by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobLookup {
    /// The record in the jobs hash, if any.
    pub record: Option<Vec<u8>>,
    /// Its run-at in the scheduled set.
    pub scheduled: Option<f64>,
    /// Its retry-at in the retry set.
    pub retry: Option<f64>,
    /// When it died, in the dead set.
    pub dead: Option<f64>,
    /// When it started waiting for its parents.
    pub waiting: Option<f64>,
    /// When it was cancelled.
    pub cancelled: Option<f64>,
    /// When it expired.
    pub expired: Option<f64>,
}

impl Store {
    /// Members in the sorted set `set_key` (a queue's scheduled, retry,
    /// dead, waiting, cancelled or expired set).
    pub async fn set_size(&self, set_key: &str) -> Result<u64, Error> {
        redis::cmd("ZCARD")
            .arg(set_key)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("set_size"))
    }

    /// Jobs ready to run: (in the ready list, in the priority set).
    pub async fn ready_sizes(&self, queue: &QueueKeys) -> Result<(u64, u64), Error> {
        redis::pipe()
            .llen(queue.ready())
            .zcard(queue.priority())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("ready_sizes"))
    }

    /// Ids and scores of ranks `start..start + count` of `set_key`, lowest
    /// score first (highest first with `newest_first`).
    pub async fn set_page(
        &self,
        set_key: &str,
        start: usize,
        count: usize,
        newest_first: bool,
    ) -> Result<Vec<(String, f64)>, Error> {
        redis::cmd(if newest_first { "ZREVRANGE" } else { "ZRANGE" })
            .arg(set_key)
            .arg(start)
            .arg(start + count.max(1) - 1)
            .arg("WITHSCORES")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("set_page"))
    }

    /// Members of the index `key` (a sorted set by due time) due after
    /// `now_ms`.
    pub async fn index_size_after(&self, key: &str, now_ms: i64) -> Result<u64, Error> {
        redis::cmd("ZCOUNT")
            .arg(key)
            .arg(format!("({now_ms}"))
            .arg("+inf")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("index_size_after"))
    }

    /// Up to `count` members (with scores) of the index `key` due after
    /// `now_ms`, soonest first, from rank `start` among those.
    pub async fn index_page_after(
        &self,
        key: &str,
        now_ms: i64,
        start: usize,
        count: usize,
    ) -> Result<Vec<(String, f64)>, Error> {
        redis::cmd("ZRANGEBYSCORE")
            .arg(key)
            .arg(format!("({now_ms}"))
            .arg("+inf")
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(start)
            .arg(count.max(1))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("index_page_after"))
    }

    /// The ids of the first `count` members of `set_key`.
    pub async fn set_head_ids(&self, set_key: &str, count: usize) -> Result<Vec<String>, Error> {
        redis::cmd("ZRANGE")
            .arg(set_key)
            .arg(0)
            .arg(count.max(1) - 1)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("set_head_ids"))
    }

    /// The records of `ids` in `queue`'s jobs hash, in order (`None` for an
    /// id without one).
    pub async fn stored_records<S: AsRef<str>>(
        &self,
        queue: &QueueKeys,
        ids: &[S],
    ) -> Result<Vec<Option<Vec<u8>>>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
        redis::cmd("HMGET")
            .arg(queue.jobs())
            .arg(&ids)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("stored_records"))
    }

    /// One `HSCAN` page of `queue`'s jobs hash (the records of scheduled,
    /// retry, dead, waiting, cancelled, expired and keyed jobs): the next
    /// cursor (0 when the scan is complete) and the records.
    pub async fn jobs_hash_page(
        &self,
        queue: &QueueKeys,
        cursor: u64,
        count: usize,
    ) -> Result<(u64, Vec<Vec<u8>>), Error> {
        let (next, pairs): (u64, Vec<Vec<u8>>) = redis::cmd("HSCAN")
            .arg(queue.jobs())
            .arg(cursor)
            .arg("COUNT")
            .arg(count.max(1))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("jobs_hash_page"))?;
        // Field, value, field, value, …: keep the values.
        Ok((next, pairs.into_iter().skip(1).step_by(2).collect()))
    }

    /// Records `offset..offset + count` of the ready list, or of the
    /// priority set with `prioritised`, in the order they will run.
    pub async fn ready_records(
        &self,
        queue: &QueueKeys,
        prioritised: bool,
        offset: usize,
        count: usize,
    ) -> Result<Vec<Vec<u8>>, Error> {
        let (command, key) = if prioritised {
            ("ZRANGE", queue.priority())
        } else {
            ("LRANGE", queue.ready())
        };
        redis::cmd(command)
            .arg(key)
            .arg(offset)
            .arg(offset + count.max(1) - 1)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("ready_records"))
    }

    /// Up to `count` workers holding a lease on `queue`.
    pub async fn leasing_workers(
        &self,
        queue: &QueueKeys,
        count: usize,
    ) -> Result<Vec<String>, Error> {
        redis::cmd("ZRANGE")
            .arg(queue.leases())
            .arg(0)
            .arg(count.max(1) - 1)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("leasing_workers"))
    }

    /// The records leased to `worker` on `queue` (its active hash).
    pub async fn leased_records(
        &self,
        queue: &QueueKeys,
        worker: &str,
    ) -> Result<Vec<Vec<u8>>, Error> {
        redis::cmd("HVALS")
            .arg(queue.active(worker))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("leased_records"))
    }

    /// Job `id`'s record if a worker holds it leased on `queue` (running,
    /// or fetched and about to run): every lease holder's active hash is
    /// asked in one pipeline.
    pub async fn leased_record(
        &self,
        queue: &QueueKeys,
        id: &str,
    ) -> Result<Option<Vec<u8>>, Error> {
        let workers = self.leasing_workers(queue, MAX_LEASE_HOLDERS).await?;
        if workers.is_empty() {
            return Ok(None);
        }
        let mut pipe = redis::pipe();
        for worker in &workers {
            pipe.hget(queue.active(worker), id);
        }
        let records: Vec<Option<Vec<u8>>> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job"))?;
        Ok(records.into_iter().flatten().next())
    }

    /// A job's record and where it is filed by id, in one round trip.
    pub async fn job_lookup(&self, queue: &QueueKeys, id: &str) -> Result<JobLookup, Error> {
        let (record, scheduled, retry, dead, waiting, cancelled, expired) = redis::pipe()
            .hget(queue.jobs(), id)
            .zscore(queue.scheduled(), id)
            .zscore(queue.retry(), id)
            .zscore(queue.dead(), id)
            .zscore(queue.waiting(), id)
            .zscore(queue.cancelled(), id)
            .zscore(queue.expired(), id)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job"))?;
        Ok(JobLookup {
            record,
            scheduled,
            retry,
            dead,
            waiting,
            cancelled,
            expired,
        })
    }

    /// Whether job `id` waits in the list of flow key `key` on `queue`.
    pub async fn waits_in_flow_list(
        &self,
        queue: &QueueKeys,
        key: &str,
        id: &str,
    ) -> Result<bool, Error> {
        let position: Value = redis::cmd("LPOS")
            .arg(queue.flow_list(key))
            .arg(id)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job"))?;
        Ok(!matches!(position, Value::Nil))
    }
}
