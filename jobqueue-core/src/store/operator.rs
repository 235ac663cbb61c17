//! Operator transitions: `requeue.lua`, `delete_jobs.lua`, `purge.lua`.
//! The [`crate::admin`] API builds on these.

use redis::Value;

use super::scripts::SCRIPTS;
use super::{Store, array_reply, int_reply};
use crate::error::Error;
use crate::keys::QueueKeys;

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

    /// Deletes jobs from a waiting set (scheduled, retry or dead).
    pub async fn delete_jobs(
        &self,
        queue: &QueueKeys,
        set_key: &str,
        ids: &[String],
    ) -> Result<u64, Error> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut call = SCRIPTS.delete_jobs.call(&[set_key, queue.jobs()]);
        for id in ids {
            call.push_arg(id.as_str());
        }
        let reply: Value = call.invoke(&mut self.conn.clone(), "delete_jobs").await?;
        Ok(u64::try_from(int_reply(&reply, "delete_jobs")?).unwrap_or(0))
    }

    /// Deletes keyed jobs waiting in their flow keys' lists
    /// (`delete_keyed.lua`); ids not waiting there are skipped.
    pub async fn delete_keyed(&self, queue: &QueueKeys, ids: &[String]) -> Result<u64, Error> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut call = SCRIPTS.delete_keyed.call(&[queue.jobs()]);
        for id in ids {
            call.push_arg(id.as_str());
        }
        let reply: Value = call.invoke(&mut self.conn.clone(), "delete_keyed").await?;
        Ok(u64::try_from(int_reply(&reply, "delete_keyed")?).unwrap_or(0))
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
