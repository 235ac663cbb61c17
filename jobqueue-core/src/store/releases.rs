//! The release outbox of job chains and fan-in: telling a parent's
//! dependents that it ended.
//!
//! A parent and its dependents may live on different queues, so in
//! different Redis Cluster slots: no one script can see both. A parent's
//! end is therefore recorded on its own queue, atomically with the
//! outcome, as an outbox entry `<parent id>|<outcome>` in
//! `P:{Q}:releases`. Whoever applies an entry (the worker that wrote it,
//! right after; or any worker's sweeper, for entries a crashed worker
//! left) reads the parent's children from its parent hash, tells each
//! child's queue with the idempotent `release_child.lua`, and only then
//! removes the entry. A repeat counts nothing, so an entry can be applied
//! any number of times.

//!
//! The scripts that end a parent (`ack_parents.lua`, `bury.lua`,
//! `delete_jobs.lua`, `delete_keyed.lua`, `cancel.lua`, `expire.lua`) file
//! the entries; `release_child.lua` (store/ops/release_child.rs) tells one
//! child.
//!
//! Nested batches use the same outbox the other way round: a child batch
//! files `b|<child id>|<outcome>|<generation>` when its outcome as its
//! parent batch sees it changes (`include/batch.lua`), and applying the
//! entry runs `batch_child_update.lua` on the parent's queue, which counts
//! each generation once.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::ops::batch_child_update::batch_child_update_call;
use crate::store::ops::release_child::release_child_call;
use crate::store::reply::{array_reply, int_reply};
use crate::store::scripts::{Call, LuaScript, invoke_pipelined};

/// Most outbox entries one sweep applies per queue.
pub const SWEEP_BATCH: usize = 100;

/// Splits an outbox entry `<parent id>|<outcome>`.
fn split_entry(entry: &str) -> Option<(&str, &str)> {
    entry.split_once('|')
}

/// A child batch's outbox entry `b|<child id>|<outcome>|<generation>`.
struct ChildBatchEntry<'a> {
    child: &'a str,
    outcome: &'a str,
    generation: u64,
}

/// Reads `b|<child id>|<outcome>|<generation>`; `None` for a job's entry.
fn child_batch_entry(entry: &str) -> Option<ChildBatchEntry<'_>> {
    let mut parts = entry.strip_prefix("b|")?.split('|');
    let (child, outcome, generation) = (parts.next()?, parts.next()?, parts.next()?);
    Some(ChildBatchEntry {
        child,
        outcome,
        generation: generation.parse().ok()?,
    })
}

impl Store {
    /// Applies release outbox entries of `queue` (`<parent id>|<outcome>`,
    /// as `ack_parents.lua` and `bury.lua` return them): tells every child
    /// of each parent on its own queue, then removes the entries. A child
    /// batch's entry (`b|…`) tells its parent batch instead. Safe to
    /// repeat and to run concurrently. Returns how many children (and
    /// parent batches) were told.
    pub async fn apply_releases(
        &self,
        queue: &QueueKeys,
        entries: &[String],
    ) -> Result<u64, Error> {
        const OP: &str = "apply_releases";
        if entries.is_empty() {
            return Ok(0);
        }
        let mut calls = self.child_batch_calls(queue, entries).await?;
        let parsed: Vec<(&str, &str)> = entries
            .iter()
            .filter(|e| !e.starts_with("b|"))
            .filter_map(|e| split_entry(e))
            .collect();
        let mut pipe = redis::pipe();
        for (parent, _) in &parsed {
            pipe.hkeys(queue.parent(parent));
        }
        let children: Vec<Vec<String>> = if parsed.is_empty() {
            Vec::new()
        } else {
            pipe.query_async(&mut self.conn.clone())
                .await
                .map_err(Error::redis(OP))?
        };
        for ((parent, outcome), fields) in parsed.iter().zip(&children) {
            for field in fields {
                let Some((child_queue, child_id)) = field
                    .strip_prefix("c|")
                    .and_then(|rest| rest.rsplit_once('|'))
                else {
                    continue;
                };
                let Ok(child_keys) = self.queue_keys(child_queue) else {
                    tracing::warn!(parent, field, "skipping a child with an invalid queue name");
                    continue;
                };
                calls.push(release_child_call(&child_keys, child_id, parent, outcome));
            }
        }
        let told = calls.len() as u64;
        for chunk in calls.chunks(crate::store::scripts::MAX_RECORDS_PER_CALL) {
            invoke_pipelined(&mut self.conn.clone(), chunk, OP).await?;
        }
        redis::cmd("ZREM")
            .arg(queue.releases())
            .arg(entries)
            .query_async::<i64>(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        Ok(told)
    }

    /// The `batch_child_update.lua` calls of the child batches' entries
    /// among `entries` (of child batches homed on `queue`): each child's
    /// `parent` field names the parent batch and its queue. An entry of a
    /// child whose hash is gone (retention over) is dropped with a warning.
    async fn child_batch_calls(
        &self,
        queue: &QueueKeys,
        entries: &[String],
    ) -> Result<Vec<Call>, Error> {
        const OP: &str = "apply_releases";
        let children: Vec<ChildBatchEntry<'_>> = entries
            .iter()
            .filter_map(|e| child_batch_entry(e))
            .collect();
        if children.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for entry in &children {
            pipe.hget(queue.batch(entry.child), "parent");
        }
        let parents: Vec<Option<String>> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        let mut calls = Vec::with_capacity(children.len());
        for (entry, parent) in children.iter().zip(parents) {
            let Some((parent_queue, parent_id)) =
                parent.as_deref().and_then(|p| p.rsplit_once('|'))
            else {
                tracing::warn!(
                    child = entry.child,
                    "child batch gone before its parent was told"
                );
                continue;
            };
            let Ok(parent_keys) = self.queue_keys(parent_queue) else {
                tracing::warn!(
                    child = entry.child,
                    parent_queue,
                    "skipping a parent batch with an invalid queue name"
                );
                continue;
            };
            calls.push(batch_child_update_call(
                &parent_keys,
                parent_id,
                entry.child,
                entry.outcome,
                entry.generation,
            ));
        }
        Ok(calls)
    }

    /// The sweeper: applies up to [`SWEEP_BATCH`] entries of `queue`'s
    /// release outbox (left by a worker that died between recording a
    /// parent's end and telling its children). Returns how many entries
    /// it applied.
    pub async fn sweep_releases(&self, queue: &QueueKeys) -> Result<u64, Error> {
        let entries: Vec<String> = redis::cmd("ZRANGE")
            .arg(queue.releases())
            .arg(0)
            .arg(SWEEP_BATCH - 1)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("sweep_releases"))?;
        self.apply_releases(queue, &entries).await?;
        Ok(entries.len() as u64)
    }

    /// Reads a delete script's reply ({deleted, outbox entries…}) and tells
    /// the children of deleted parents at once; should that fail, the
    /// entries stay in the outbox for the workers' sweeper. Returns how
    /// many jobs were deleted.
    pub(crate) async fn tell_children_of_deleted(
        &self,
        queue: &QueueKeys,
        reply: Value,
        op: &'static str,
    ) -> Result<u64, Error> {
        let mut parts = array_reply(reply, op)?.into_iter();
        let deleted = parts
            .next()
            .ok_or_else(|| Error::protocol(op, "empty reply"))?;
        let deleted = u64::try_from(int_reply(&deleted, op)?).unwrap_or(0);
        let filed = parts
            .map(|entry| match entry {
                Value::BulkString(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
                other => Err(Error::protocol(
                    op,
                    format!("expected an outbox entry, got {other:?}"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Err(error) = self.apply_releases(queue, &filed).await {
            tracing::warn!(%error, queue = queue.name(), "deleted parents' children not told yet; the workers' sweeper will");
        }
        Ok(deleted)
    }
}

/// A delete script's call: `leading` keys, the release outbox, then each
/// job's parent hash; the ids as arguments.
pub(crate) fn delete_call(
    script: &'static LuaScript,
    leading: &[&str],
    queue: &QueueKeys,
    ids: &[String],
) -> Call {
    let parents: Vec<String> = ids.iter().map(|id| queue.parent(id)).collect();
    let releases = queue.releases();
    let mut keys = leading.to_vec();
    keys.push(&releases);
    keys.extend(parents.iter().map(String::as_str));
    let mut call = script.call(&keys);
    for id in ids {
        call.push_arg(id.as_str());
    }
    call
}
