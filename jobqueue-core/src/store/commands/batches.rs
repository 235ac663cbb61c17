//! Batches' plain reads: one batch's bookkeeping hash and a queue's batch
//! index. Every change to a batch is a script in `store/ops/batch_*.rs`
//! and the scripts that end its jobs.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// The fields of a batch hash read for operators, in this order.
pub const BATCH_FIELDS: [&str; 19] = [
    "total",
    "pending",
    "succeeded",
    "failed",
    "dead",
    "holds",
    "state",
    "description",
    "created",
    "finished",
    "retention_ms",
    "cb:success",
    "cb:complete",
    "cb:death",
    "fired:success",
    "fired:complete",
    "fired:death",
    "cancelled",
    "parent",
];

impl Store {
    /// A batch hash's [`BATCH_FIELDS`] (`None` for a field never written),
    /// with the hash's remaining time to live in ms (-1: none yet); `None`
    /// when there is no such batch.
    pub async fn batch_fields(
        &self,
        queue: &QueueKeys,
        batch_id: &str,
    ) -> Result<Option<(Vec<Option<String>>, i64)>, Error> {
        let key = queue.batch(batch_id);
        let (fields, ttl): (Vec<Option<String>>, i64) = redis::pipe()
            .cmd("HMGET")
            .arg(&key)
            .arg(&BATCH_FIELDS[..])
            .cmd("PTTL")
            .arg(&key)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("batch_fields"))?;
        Ok((ttl != -2).then_some((fields, ttl)))
    }

    /// Up to `limit` ids of the batch's dead jobs (its `dead:<id>` fields,
    /// by HSCAN: bounded work whatever the batch's size).
    pub async fn batch_dead_ids(
        &self,
        queue: &QueueKeys,
        batch_id: &str,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        let fields = self
            .batch_fields_named(queue, batch_id, "dead:", limit, Some(10))
            .await?;
        Ok(fields.into_iter().map(|(id, _)| id).collect())
    }

    /// Up to `limit` child batches of the batch (its `child:<id>` fields:
    /// child id → `<generation>|<outcome>|<child queue>`, by HSCAN).
    pub async fn batch_children(
        &self,
        queue: &QueueKeys,
        batch_id: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, Error> {
        self.batch_fields_named(queue, batch_id, "child:", limit, Some(10))
            .await
    }

    /// Every child batch of the batch, as [`Store::batch_children`], by a
    /// full HSCAN of its hash (100 fields per command, however many dead
    /// jobs it records): for the operator's cascading cancel and
    /// retry-dead.
    pub async fn batch_children_all(
        &self,
        queue: &QueueKeys,
        batch_id: &str,
    ) -> Result<Vec<(String, String)>, Error> {
        self.batch_fields_named(queue, batch_id, "child:", usize::MAX, None)
            .await
    }

    /// Up to `limit` fields of the batch hash whose name starts with
    /// `prefix`, as (name without the prefix, value), by HSCAN: at most
    /// `rounds` commands of 100 fields each (bounded work whatever the
    /// batch's size: ten rounds see ~1,000 fields), or the whole hash
    /// with `None`.
    async fn batch_fields_named(
        &self,
        queue: &QueueKeys,
        batch_id: &str,
        prefix: &str,
        limit: usize,
        rounds: Option<usize>,
    ) -> Result<Vec<(String, String)>, Error> {
        let key = queue.batch(batch_id);
        let mut found = Vec::new();
        let mut cursor: u64 = 0;
        for _ in 0..rounds.unwrap_or(usize::MAX) {
            let (next, fields): (u64, Vec<String>) = redis::cmd("HSCAN")
                .arg(&key)
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}*"))
                .arg("COUNT")
                .arg(100)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(Error::redis("batch_fields_named"))?;
            let mut pairs = fields.into_iter();
            while let (Some(name), Some(value)) = (pairs.next(), pairs.next()) {
                if let Some(rest) = name.strip_prefix(prefix) {
                    found.push((rest.to_owned(), value));
                }
            }
            cursor = next;
            if cursor == 0 || found.len() >= limit {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
    }

    /// Batch ids of a queue with their creation time (ms), newest first,
    /// from `offset`, at most `count` (entries whose retention is over are
    /// included until `batch_open.lua` drops them).
    pub async fn batch_index(
        &self,
        queue: &QueueKeys,
        offset: usize,
        count: usize,
    ) -> Result<Vec<(String, i64)>, Error> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let reply: Value = redis::cmd("ZREVRANGE")
            .arg(queue.batches())
            .arg(offset)
            .arg(offset + count - 1)
            .arg("WITHSCORES")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("batch_index"))?;
        let pairs: Vec<(String, f64)> = redis::from_redis_value(reply)
            .map_err(|e| Error::protocol("batch_index", e.to_string()))?;
        Ok(pairs
            .into_iter()
            .map(|(id, created)| (id, created as i64))
            .collect())
    }
}
