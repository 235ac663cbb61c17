//! Cron entry transitions: `cron_tick.lua`, `cron_resume.lua`,
//! `cron_run_now.lua`, `cron_set.lua`, and plain reads of an entry's hash.
//! [`crate::cron`] decides which ticks to enqueue; these only write.

use std::collections::HashMap;

use redis::Value;

use super::scripts::SCRIPTS;
use super::{Store, array_reply, int_reply};
use crate::error::Error;
use crate::store::keys::QueueKeys;

/// An entry's hash as stored (fields absent when never written).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CronState {
    /// The definition JSON.
    pub definition: Option<String>,
    /// Every tick at or before this (ms) has been handled.
    pub through: Option<String>,
    /// When the entry was paused (ms), if it is.
    pub paused_at: Option<i64>,
    /// Tick (ms) of the latest run enqueued.
    pub last_tick: Option<i64>,
    /// Job id of the latest run enqueued.
    pub last_id: Option<String>,
    /// Missed ticks skipped by the misfire policy, in total.
    pub skipped: u64,
    /// JSON of the latest finished run's result.
    pub result: Option<String>,
}

impl CronState {
    fn from_fields(mut fields: HashMap<String, String>) -> Self {
        let number = |value: Option<String>| value.and_then(|v| v.parse::<i64>().ok());
        Self {
            definition: fields.remove("def"),
            through: fields.remove("through"),
            paused_at: number(fields.remove("paused")),
            last_tick: number(fields.remove("last_tick")),
            last_id: fields.remove("last_id"),
            skipped: number(fields.remove("skipped"))
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            result: fields.remove("result"),
        }
    }
}

/// What one `cron_tick.lua` call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronTickOutcome {
    /// The runs were enqueued and `through` moved.
    Enqueued(u64),
    /// Another scheduler moved `through` first: nothing was written.
    Stale,
    /// The entry is paused: nothing was written.
    Paused,
}

impl Store {
    /// Stores an entry's definition and lists it under its queue. Leaves
    /// its progress (`through`, pause, last run) as it is.
    pub async fn cron_register(
        &self,
        queue: &QueueKeys,
        name: &str,
        definition_json: &str,
    ) -> Result<(), Error> {
        redis::pipe()
            .cmd("HSET")
            .arg(queue.cron(name))
            .arg("def")
            .arg(definition_json)
            .ignore()
            .cmd("SADD")
            .arg(queue.crons())
            .arg(name)
            .ignore()
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("cron_register"))
    }

    /// Names of a queue's cron entries, sorted.
    pub async fn cron_names(&self, queue: &QueueKeys) -> Result<Vec<String>, Error> {
        let mut names: Vec<String> = redis::cmd("SMEMBERS")
            .arg(queue.crons())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("cron_names"))?;
        names.sort();
        Ok(names)
    }

    /// An entry's hash; `None` when there is no such entry.
    pub async fn cron_state(
        &self,
        queue: &QueueKeys,
        name: &str,
    ) -> Result<Option<CronState>, Error> {
        let fields: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(queue.cron(name))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("cron_state"))?;
        Ok((!fields.is_empty()).then(|| CronState::from_fields(fields)))
    }

    /// Enqueues `runs` (record, tick ms) if `through` still equals
    /// `expected_through`, and moves it to `new_through` (`cron_tick.lua`).
    pub async fn cron_tick(
        &self,
        queue: &QueueKeys,
        name: &str,
        expected_through: Option<&str>,
        new_through: i64,
        skipped: u64,
        runs: &[(Vec<u8>, i64)],
    ) -> Result<CronTickOutcome, Error> {
        const OP: &str = "cron_tick";
        let cron_key = queue.cron(name);
        let mut call = SCRIPTS
            .cron_tick
            .call(&[
                &cron_key,
                queue.scheduled(),
                queue.jobs(),
                queue.ready(),
                queue.priority(),
            ])
            .arg(queue.events())
            .arg(expected_through.unwrap_or(""))
            .arg(new_through)
            .arg(skipped);
        for (record, tick) in runs {
            call.push_arg(record.as_slice());
            call.push_arg(*tick);
        }
        let reply = array_reply(call.invoke(&mut self.conn.clone(), OP).await?, OP)?;
        match reply.as_slice() {
            [count, Value::BulkString(status)] => match status.as_slice() {
                b"ok" => Ok(CronTickOutcome::Enqueued(
                    u64::try_from(int_reply(count, OP)?).unwrap_or(0),
                )),
                b"stale" => Ok(CronTickOutcome::Stale),
                b"paused" => Ok(CronTickOutcome::Paused),
                other => Err(Error::protocol(
                    OP,
                    format!("unknown status {:?}", String::from_utf8_lossy(other)),
                )),
            },
            _ => Err(Error::protocol(OP, "reply is not {count, status}")),
        }
    }

    /// Sets one field of an existing entry; false when there is no such entry.
    pub async fn cron_set(
        &self,
        queue: &QueueKeys,
        name: &str,
        field: &str,
        value: &str,
    ) -> Result<bool, Error> {
        let reply: Value = SCRIPTS
            .cron_set
            .call(&[&queue.cron(name)])
            .arg(field)
            .arg(value)
            .invoke(&mut self.conn.clone(), "cron_set")
            .await?;
        Ok(int_reply(&reply, "cron_set")? == 1)
    }

    /// Resumes a paused entry, skipping the ticks it missed
    /// (`cron_resume.lua`). Returns 1 (resumed), 0 (was not paused) or -1
    /// (no such entry).
    pub async fn cron_resume(&self, queue: &QueueKeys, name: &str) -> Result<i64, Error> {
        let reply: Value = SCRIPTS
            .cron_resume
            .call(&[&queue.cron(name)])
            .invoke(&mut self.conn.clone(), "cron_resume")
            .await?;
        int_reply(&reply, "cron_resume")
    }

    /// Enqueues an extra run now (`cron_run_now.lua`); false when there is no such entry.
    pub async fn cron_run_now(
        &self,
        queue: &QueueKeys,
        name: &str,
        record: &[u8],
    ) -> Result<bool, Error> {
        let reply: Value = SCRIPTS
            .cron_run_now
            .call(&[&queue.cron(name), queue.ready(), queue.priority()])
            .arg(queue.events())
            .arg(record)
            .invoke(&mut self.conn.clone(), "cron_run_now")
            .await?;
        Ok(int_reply(&reply, "cron_run_now")? == 1)
    }

    /// Forgets an entry (its definition and progress; runs already
    /// enqueued stay). Returns whether it existed.
    pub async fn cron_remove(&self, queue: &QueueKeys, name: &str) -> Result<bool, Error> {
        let (deleted, _): (i64, i64) = redis::pipe()
            .cmd("DEL")
            .arg(queue.cron(name))
            .cmd("SREM")
            .arg(queue.crons())
            .arg(name)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("cron_remove"))?;
        Ok(deleted == 1)
    }
}
