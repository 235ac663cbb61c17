//! Operator transitions: `requeue.lua`, `delete_jobs.lua`, `purge.lua`.
//! The [`crate::admin`] API builds on these.

use redis::Value;

use super::scripts::{Call, LuaScript, SCRIPTS};
use super::{Store, array_reply, int_reply};
use crate::error::Error;
use crate::store::keys::QueueKeys;

impl Store {
    /// Moves jobs from a waiting set (`set_key`: the queue's scheduled,
    /// retry or dead set) to ready. `reset_attempts` gives them a fresh set
    /// of attempts. Returns how many moved.
    pub async fn requeue(
        &self,
        queue: &QueueKeys,
        set_key: &str,
        ids: &[String],
        reset_attempts: bool,
    ) -> Result<u64, Error> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut call = SCRIPTS
            .requeue
            .call(&[set_key, queue.jobs(), queue.ready(), queue.priority()])
            .arg(queue.events())
            .arg(if reset_attempts { "1" } else { "0" });
        for id in ids {
            call.push_arg(id.as_str());
        }
        let reply: Value = call.invoke(&mut self.conn.clone(), "requeue").await?;
        Ok(u64::try_from(int_reply(&reply, "requeue")?).unwrap_or(0))
    }

    /// Deletes jobs from a waiting set (scheduled, retry, dead or waiting
    /// for parents). A deleted job with dependents that had not ended is
    /// recorded as failed, and its children are told at once (their
    /// policies apply); should telling them fail, the entries stay in the
    /// outbox for the workers' sweeper. Returns how many were deleted.
    pub async fn delete_jobs(
        &self,
        queue: &QueueKeys,
        set_key: &str,
        ids: &[String],
    ) -> Result<u64, Error> {
        const OP: &str = "delete_jobs";
        if ids.is_empty() {
            return Ok(0);
        }
        let reply: Value = delete_call(&SCRIPTS.delete_jobs, &[set_key, queue.jobs()], queue, ids)
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        self.tell_children_of_deleted(queue, reply, OP).await
    }

    /// Reads a delete script's reply ({deleted, outbox entries…}) and tells
    /// the children of deleted parents at once; should that fail, the
    /// entries stay in the outbox for the workers' sweeper. Returns how
    /// many jobs were deleted.
    async fn tell_children_of_deleted(
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

    /// Deletes keyed jobs waiting in their flow keys' lists
    /// (`delete_keyed.lua`); ids not waiting there are skipped.
    pub async fn delete_keyed(&self, queue: &QueueKeys, ids: &[String]) -> Result<u64, Error> {
        if ids.is_empty() {
            return Ok(0);
        }
        let reply: Value = delete_call(&SCRIPTS.delete_keyed, &[queue.jobs()], queue, ids)
            .invoke(&mut self.conn.clone(), "delete_keyed")
            .await?;
        self.tell_children_of_deleted(queue, reply, "delete_keyed")
            .await
    }

    /// Drops up to `max` keyed jobs waiting in their flow keys' lists
    /// (`purge_keyed.lua`). Returns how many, and whether more may wait.
    pub async fn purge_keyed(&self, queue: &QueueKeys, max: usize) -> Result<(u64, bool), Error> {
        const OP: &str = "purge_keyed";
        let (ready, running) = (queue.flow_ready(), queue.flow_running());
        let reply: Value = SCRIPTS
            .purge_keyed
            .call(&[&ready, &running, queue.jobs()])
            .arg(max.max(1))
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        let parts = array_reply(reply, OP)?;
        let (Some(dropped), Some(more)) = (parts.first(), parts.get(1)) else {
            return Err(Error::protocol(OP, "reply is not {dropped, more}"));
        };
        Ok((
            u64::try_from(int_reply(dropped, OP)?).unwrap_or(0),
            int_reply(more, OP)? == 1,
        ))
    }

    /// Drops every ready job of `queue`. Returns how many were dropped.
    pub async fn purge(&self, queue: &QueueKeys) -> Result<u64, Error> {
        let reply: Value = SCRIPTS
            .purge
            .call(&[queue.ready(), queue.priority()])
            .invoke(&mut self.conn.clone(), "purge")
            .await?;
        Ok(u64::try_from(int_reply(&reply, "purge")?).unwrap_or(0))
    }
}

/// A delete script's call: `leading` keys, the release outbox, then each
/// job's parent hash; the ids as arguments.
fn delete_call(
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
