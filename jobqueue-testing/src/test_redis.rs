//! [`TestRedis`]: one test's private slice of a real Redis — its prefix,
//! its client, and where the test Redis is.

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
    /// The test Redis: where keys are listed and deleted.
    url: String,
    prefix: String,
    /// The settings `client` was made from (its URL may differ from `url`
    /// after [`TestRedis::reconnect_with`]).
    config: ClientConfig,
    client: Client,
    /// How far [`TestRedis::advance`] has moved the test's clock, ms.
    pub(crate) clock_offset_ms: AtomicU64,
    pub(crate) keep_keys: bool,
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

    /// A fresh prefix on the Redis at `url` (e.g. a server the test starts
    /// itself, to stop or restart it).
    pub async fn on(url: &str, label: &str) -> Result<Self, TestingError> {
        let prefix = unique_prefix(label);
        let config = ClientConfig::new(url).prefix(&prefix);
        let client = Client::with_config(config.clone()).await?;
        let keep_keys = std::env::var(ENV_KEEP_KEYS).is_ok_and(|v| v == "1");
        Ok(Self {
            url: url.to_owned(),
            prefix,
            config,
            client,
            clock_offset_ms: AtomicU64::new(0),
            keep_keys,
        })
    }

    /// Makes the test's client anew from `config`, under the test's prefix
    /// (whatever prefix `config` names): to test with a shorter response
    /// timeout, `wait_for_replicas`, a TLS URL with an ACL user, or through
    /// Sentinel or a Cluster. [`TestRedis::client`],
    /// [`TestRedis::client_config`], [`TestRedis::worker`] and the helpers
    /// use it from then on; clones of the old client keep working. Keys
    /// are still listed and deleted on the Redis at [`TestRedis::url`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), jobqueue_testing::TestingError> {
    /// let mut t = jobqueue_testing::TestRedis::named("impatient").await?;
    /// t.reconnect_with(t.client_config().response_timeout(Duration::from_millis(300)))
    ///     .await?;
    /// assert_eq!(t.client_config().prefix_str(), t.prefix());
    /// assert_eq!(t.client().admin().queue("default").await?.ready, 0);
    /// # Ok(()) }
    /// ```
    pub async fn reconnect_with(&mut self, config: ClientConfig) -> Result<(), TestingError> {
        let config = config.prefix(&self.prefix);
        self.client = Client::with_config(config.clone()).await?;
        self.config = config;
        Ok(())
    }

    /// A client under the test's prefix (cheap to clone).
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Settings of that client, for code that connects by itself.
    pub fn client_config(&self) -> ClientConfig {
        self.config.clone()
    }

    /// A worker builder on the test's client: register your job types on it
    /// and hand it to [`TestRedis::drain`], or `.start()` it for a test
    /// with a real background worker (see [`crate::eventually`]).
    pub fn worker(&self) -> WorkerBuilder {
        Worker::builder(self.client())
    }

    /// The key prefix of this test.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The URL of the test Redis (where the test's keys are listed and
    /// deleted).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection of its own to the test Redis, for commands the helpers
    /// do not cover: reading what a job wrote, or setting up a key. Keys
    /// under [`TestRedis::prefix`] are deleted with the test's.
    ///
    /// ```
    /// use jobqueue_testing::redis;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), jobqueue_testing::TestingError> {
    /// let t = jobqueue_testing::TestRedis::new().await?;
    /// let mut conn = t.connection().await?;
    /// let key = format!("{}:greeting", t.prefix());
    /// redis::cmd("SET").arg(&key).arg("hello").query_async::<()>(&mut conn).await?;
    /// assert_eq!(t.keys().await?, [key]);
    /// # Ok(()) }
    /// ```
    pub async fn connection(&self) -> Result<redis::aio::MultiplexedConnection, TestingError> {
        let client = redis::Client::open(self.url.as_str())?;
        Ok(client.get_multiplexed_async_connection().await?)
    }

    /// How far [`TestRedis::advance`] has moved this test's clock.
    pub fn clock_offset(&self) -> Duration {
        Duration::from_millis(self.clock_offset_ms.load(Ordering::Acquire))
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
