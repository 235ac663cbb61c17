//! [`TestRedis`]: one test's private slice of a real Redis.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jobqueue_core::{Client, ClientConfig, DEFAULT_REDIS_URL, ENV_REDIS_URL};
use jobqueue_worker::{Worker, WorkerBuilder};

use crate::error::TestingError;

/// Environment variable naming the Redis tests use; checked before
/// `JOBQUEUE_REDIS_URL`.
pub const ENV_TEST_REDIS_URL: &str = "JOBQUEUE_TEST_REDIS_URL";

/// Set to `1` to keep a test's keys after it ends (their prefix is logged),
/// to look at them with `redis-cli`.
pub const ENV_KEEP_KEYS: &str = "JOBQUEUE_TEST_KEEP_KEYS";

/// How long the clean-up on drop may take before it gives up.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(5);

/// One test's slice of a real Redis: a [`Client`] under a fresh random key
/// prefix, so tests run in parallel on one Redis (even next to a running
/// app) without seeing each other's jobs. Every key under the prefix is
/// deleted when the `TestRedis` is dropped.
///
/// The Redis is `JOBQUEUE_TEST_REDIS_URL`, else `JOBQUEUE_REDIS_URL`, else
/// `redis://127.0.0.1:6379`.
///
/// ```no_run
/// use jobqueue_testing::TestRedis;
///
/// # async fn demo() -> Result<(), jobqueue_testing::TestingError> {
/// let t = TestRedis::new().await?;
/// let client = t.client();         // hand this to the code under test
/// let worker = t.worker();         // a WorkerBuilder on the same prefix
/// # let _ = (client, worker);
/// # Ok(()) }
/// ```
pub struct TestRedis {
    url: String,
    prefix: String,
    client: Client,
    /// How far [`TestRedis::advance`] has moved the test's clock, ms.
    pub(crate) clock_offset_ms: AtomicU64,
    keep_keys: bool,
}

impl std::fmt::Debug for TestRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestRedis")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The Redis URL tests use (see [`TestRedis`]).
pub fn test_redis_url() -> String {
    [ENV_TEST_REDIS_URL, ENV_REDIS_URL]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|url| !url.is_empty()))
        .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned())
}

impl TestRedis {
    /// A fresh prefix on the test Redis.
    pub async fn new() -> Result<Self, TestingError> {
        Self::on(&test_redis_url(), "t").await
    }

    /// A fresh prefix whose name starts with `label` (letters, digits,
    /// `-` and `_` are kept), to spot a test's keys in `redis-cli`.
    pub async fn named(label: &str) -> Result<Self, TestingError> {
        Self::on(&test_redis_url(), label).await
    }

    /// A fresh prefix on the Redis at `url`.
    pub async fn on(url: &str, label: &str) -> Result<Self, TestingError> {
        let prefix = unique_prefix(label);
        let client = Client::with_config(ClientConfig::new(url).prefix(&prefix)).await?;
        let keep_keys = std::env::var(ENV_KEEP_KEYS).is_ok_and(|v| v == "1");
        Ok(Self {
            url: url.to_owned(),
            prefix,
            client,
            clock_offset_ms: AtomicU64::new(0),
            keep_keys,
        })
    }

    /// A client under the test's prefix (cheap to clone).
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Settings of that client, for code that connects by itself.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig::new(&self.url).prefix(&self.prefix)
    }

    /// A worker builder on the test's client: register your job types on it
    /// and hand it to [`TestRedis::drain`], or `.start()` it for a test
    /// with a real background worker.
    pub fn worker(&self) -> WorkerBuilder {
        Worker::builder(self.client())
    }

    /// The key prefix of this test.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How far [`TestRedis::advance`] has moved this test's clock.
    pub fn clock_offset(&self) -> Duration {
        Duration::from_millis(self.clock_offset_ms.load(Ordering::Acquire))
    }

    /// Deletes every key under the prefix now (dropping does the same).
    pub async fn cleanup(&self) -> Result<u64, TestingError> {
        let mut conn = self.client.store().connection();
        let pattern = format!("{}:*", self.prefix);
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await?;
            if !keys.is_empty() {
                deleted += redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async::<u64>(&mut conn)
                    .await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if self.keep_keys {
            tracing::info!(prefix = %self.prefix, "keeping the test's keys ({ENV_KEEP_KEYS}=1)");
            return;
        }
        // Drop cannot await, so the clean-up uses a blocking connection of
        // its own; a failure only leaves keys behind under a unique prefix.
        if let Err(err) = delete_prefix_blocking(&self.url, &self.prefix) {
            tracing::warn!(prefix = %self.prefix, error = %err, "could not delete the test's keys");
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
            .arg(1000)
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

/// `jqtest-<label>-<12 random hex digits>`; the label keeps only
/// characters that are safe in a prefix and in a SCAN pattern.
fn unique_prefix(label: &str) -> String {
    let label: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(32)
        .collect();
    let random = &uuid::Uuid::new_v4().simple().to_string()[..12];
    format!("jqtest-{label}-{random}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_unique_and_safe() {
        let a = unique_prefix("signup flow {x}*");
        let b = unique_prefix("signup flow {x}*");
        assert_ne!(a, b);
        assert!(a.starts_with("jqtest-signupflowx-"), "{a}");
        assert!(jobqueue_core::store::keys::Keys::new(&a).is_ok());
    }
}
