//! The keys under a test's prefix: listing them, and deleting them when
//! asked or when the [`TestRedis`] is dropped.

use std::time::Duration;

use crate::error::TestingError;
use crate::test_redis::{ENV_KEEP_KEYS, TestRedis};

/// How long the clean-up on drop may take before it gives up.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Keys asked for per SCAN step, and deleted per UNLINK.
const BATCH: usize = 1000;

impl TestRedis {
    /// Every key under the test's prefix on the test Redis, sorted: to
    /// check what your code left behind.
    ///
    /// ```
    /// # use jobqueue_core::{Job, JobContext, JobError};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize)] struct Ping;
    /// # impl Job for Ping {
    /// #     const NAME: &'static str = "ping";
    /// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), jobqueue_testing::TestingError> {
    /// let t = jobqueue_testing::TestRedis::new().await?;
    /// t.client().enqueue(Ping).await?;
    /// let keys = t.keys().await?;
    /// assert!(keys.iter().all(|key| key.starts_with(t.prefix())));
    /// assert!(keys.iter().any(|key| key.ends_with(":ready")), "{keys:?}");
    /// t.cleanup().await?;
    /// assert!(t.keys().await?.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn keys(&self) -> Result<Vec<String>, TestingError> {
        let mut keys = scan_prefix(&mut self.connection().await?, self.prefix()).await?;
        keys.sort();
        Ok(keys)
    }

    /// Deletes every key under the prefix now (dropping does the same, and
    /// [`ENV_KEEP_KEYS`] does not stop this one); returns how many.
    pub async fn cleanup(&self) -> Result<u64, TestingError> {
        let mut conn = self.connection().await?;
        let keys = scan_prefix(&mut conn, self.prefix()).await?;
        let mut deleted = 0;
        for batch in keys.chunks(BATCH) {
            deleted += redis::cmd("UNLINK")
                .arg(batch)
                .query_async::<u64>(&mut conn)
                .await?;
        }
        Ok(deleted)
    }
}

/// SCANs for every key under `prefix`.
async fn scan_prefix(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
) -> Result<Vec<String>, redis::RedisError> {
    let pattern = format!("{prefix}:*");
    let mut cursor: u64 = 0;
    let mut keys = Vec::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(BATCH)
            .query_async(conn)
            .await?;
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if self.keep_keys {
            tracing::info!(prefix = %self.prefix(), "keeping the test's keys ({ENV_KEEP_KEYS}=1)");
            return;
        }
        // Drop cannot await, so the clean-up uses a blocking connection of
        // its own; a failure only leaves keys behind under a unique prefix.
        if let Err(err) = delete_prefix_blocking(self.url(), self.prefix()) {
            tracing::warn!(prefix = %self.prefix(), error = %err, "could not delete the test's keys");
        }
    }
}

/// SCAN + UNLINK every key under `prefix` over a blocking connection.
fn delete_prefix_blocking(url: &str, prefix: &str) -> Result<(), redis::RedisError> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_connection_with_timeout(CLEANUP_TIMEOUT)?;
    conn.set_read_timeout(Some(CLEANUP_TIMEOUT))?;
    conn.set_write_timeout(Some(CLEANUP_TIMEOUT))?;
    let pattern = format!("{prefix}:*");
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(BATCH)
            .query(&mut conn)?;
        if !keys.is_empty() {
            redis::cmd("UNLINK").arg(&keys).query::<u64>(&mut conn)?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}
