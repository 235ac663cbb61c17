//! The Redis store: the key layout plus one method per state transition,
//! each calling the Lua script of the same name.
//!
//! This is the layer the [`crate::Client`], the worker runtime and the
//! operator API ([`crate::admin`]) are built on. Methods take the queue's
//! [`QueueKeys`] (built once and reused by callers on hot paths) and never
//! hold state between calls: every job's state lives in Redis.

pub(crate) mod cancel;
mod completion;
pub mod conn;
mod cron;
pub(crate) mod dependencies;
pub(crate) mod enqueue;
mod expire;
mod fetch;
pub mod keys;
mod lease;
mod operator;
mod promote;
mod queue_registry;
pub mod schema;
pub(crate) mod scripts;
pub(crate) mod unique;
pub(crate) mod with_id;

use redis::Value;

pub use completion::{
    BuryEntry, CompletionBatch, CompletionCalls, CompletionReport, DeadLimits, RetryEntry,
};
pub use conn::topology::RedisTopology;
pub use conn::{ConnectionSettings, RedisConnection};
pub use cron::{CronState, CronTickOutcome};
pub use dependencies::{SWEEP_BATCH, WaitingOutcome};
pub use enqueue::ScheduleAt;
pub use fetch::{FetchReply, FetchStatus, MAX_FETCH_BATCH, parse_fetch_reply};
pub use promote::PromoteReply;
pub use queue_registry::QueueRegistry;

use crate::error::Error;
use crate::store::keys::{Keys, QueueKeys};

/// Redis access for one key prefix. Cheap to clone; clones share the connection.
#[derive(Debug, Clone)]
pub struct Store {
    conn: RedisConnection,
    keys: Keys,
}

impl Store {
    /// Connects to `url` and loads the scripts.
    pub async fn connect(
        url: &str,
        prefix: &str,
        settings: ConnectionSettings,
    ) -> Result<Self, Error> {
        let keys = Keys::new(prefix)?;
        let mut conn = RedisConnection::connect(url, settings).await?;
        scripts::load_all(&mut conn).await?;
        Ok(Self { conn, keys })
    }

    /// The key builder for this store's prefix.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Keys of `queue`; fails for an invalid queue name.
    pub fn queue_keys(&self, queue: &str) -> Result<QueueKeys, Error> {
        self.keys.queue(queue)
    }

    /// A handle to the shared connection, for commands of your own.
    pub fn connection(&self) -> RedisConnection {
        self.conn.clone()
    }

    /// The Redis clock, in milliseconds since the epoch.
    pub async fn redis_time_ms(&self) -> Result<i64, Error> {
        let (secs, micros): (i64, i64) = redis::cmd("TIME")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("time"))?;
        Ok(secs * 1000 + micros / 1000)
    }

    /// Adds queue names to the registry the dashboard and CLI list.
    pub async fn register_queues<I, S>(&self, queues: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names: Vec<String> = queues.into_iter().map(|q| q.as_ref().to_owned()).collect();
        if names.is_empty() {
            return Ok(());
        }
        redis::cmd("SADD")
            .arg(self.keys.queues())
            .arg(&names)
            .query_async::<i64>(&mut self.conn.clone())
            .await
            .map(|_| ())
            .map_err(Error::redis("register_queues"))
    }
}

/// Reads an integer from a script reply.
pub(crate) fn int_reply(value: &Value, op: &'static str) -> Result<i64, Error> {
    match value {
        Value::Int(n) => Ok(*n),
        Value::BulkString(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::protocol(op, "expected an integer")),
        other => Err(Error::protocol(
            op,
            format!("expected an integer, got {other:?}"),
        )),
    }
}

/// Reads an array from a script reply.
pub(crate) fn array_reply(value: Value, op: &'static str) -> Result<Vec<Value>, Error> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Nil => Ok(Vec::new()),
        other => Err(Error::protocol(
            op,
            format!("expected an array, got {other:?}"),
        )),
    }
}
