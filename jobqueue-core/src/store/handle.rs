//! [`Store`]: Redis access for one key prefix — the connection and the key
//! builder every operation of the store layer goes through.

use crate::error::Error;
use crate::store::conn::{ConnectionSettings, RedisConnection};
use crate::store::keys::{Keys, QueueKeys};
use crate::store::scripts;

/// Redis access for one key prefix. Cheap to clone; clones share the connection.
#[derive(Debug, Clone)]
pub struct Store {
    pub(in crate::store) conn: RedisConnection,
    pub(in crate::store) keys: Keys,
    /// The event switches this process read (`commands/observe.rs`).
    pub(in crate::store) switches: std::sync::Arc<crate::store::switch_cache::SwitchCache>,
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
        Ok(Self {
            conn,
            keys,
            switches: std::sync::Arc::default(),
        })
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

    /// True when connected to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.conn.is_cluster()
    }

    /// Waits until `replicas` replicas of the primary holding `key`
    /// confirmed the writes sent so far on this connection, at most
    /// `timeout`; returns how many did.
    pub async fn wait_for_replicas(
        &self,
        key: &str,
        replicas: u32,
        timeout: std::time::Duration,
    ) -> Result<i64, Error> {
        self.conn.wait_for_replicas(key, replicas, timeout).await
    }
}
