//! Cron entries' plain commands: registering an entry, listing a queue's
//! entries, reading an entry's hash, removing it. The transitions of an
//! entry (tick, pause, resume, run now) are scripts in `store/ops/cron_*.rs`.

use std::collections::HashMap;

use crate::error::Error;
use crate::store::handle::Store;
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
