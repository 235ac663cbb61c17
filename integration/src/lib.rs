//! Shared fixtures for jobqueue's integration tests.
//!
//! * [`TestEnv`]: a client on the test Redis with a fresh key prefix, so
//!   tests run in parallel on one Redis without touching each other.
//! * [`RedisServer`]: a private `redis-server` on a free port, for tests that
//!   stop or restart Redis (never the shared one).
//! * [`WorkerProcess`]: the `test_worker` binary as a child process, for
//!   tests that kill or signal workers.
//! * Test jobs that leave a record in Redis each time they run.
//! * [`locate::locate_jobs`]: where every job of a queue is, in one atomic
//!   snapshot (DESIGN.md invariant 1).
//! * [`chaos`]: the fault-injection harness of the `chaos_*` tests.

pub mod chaos;
pub mod dashboard;
pub mod jobs;
pub mod locate;
pub mod probe;
pub mod process;
pub mod redis_cluster;
pub mod redis_sentinel;
pub mod redis_server;
pub mod tls_certs;

use std::time::{Duration, Instant};

use jobqueue_core::{Client, ClientConfig};

pub use process::WorkerProcess;
pub use redis_cluster::RedisCluster;
pub use redis_server::RedisServer;

/// Environment variable naming the Redis the tests use.
pub const ENV_TEST_REDIS_URL: &str = "JOBQUEUE_TEST_REDIS_URL";

/// The Redis the tests use: `JOBQUEUE_TEST_REDIS_URL`, else the local default.
pub fn redis_url() -> String {
    std::env::var(ENV_TEST_REDIS_URL).unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A unique key prefix for one test.
pub fn unique_prefix(test: &str) -> String {
    let short = &uuid::Uuid::new_v4().simple().to_string()[..10];
    format!("jqtest-{test}-{short}")
}

/// Installs a tracing subscriber once (RUST_LOG controls it; quiet by default).
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

/// One test's slice of Redis: a client under a fresh prefix.
pub struct TestEnv {
    /// The Redis URL.
    pub url: String,
    /// The key prefix of this test.
    pub prefix: String,
    /// A client under that prefix.
    pub client: Client,
}

impl TestEnv {
    /// A fresh prefix on the test Redis.
    pub async fn new(test: &str) -> Self {
        Self::on(&redis_url(), test).await
    }

    /// A fresh prefix on the Redis at `url`.
    pub async fn on(url: &str, test: &str) -> Self {
        init_tracing();
        let prefix = unique_prefix(test);
        let client = Client::with_config(ClientConfig::new(url).prefix(&prefix))
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test Redis at {url}: {e}"));
        Self {
            url: url.to_owned(),
            prefix,
            client,
        }
    }

    /// The client's config (for workers built from a URL).
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig::new(&self.url).prefix(&self.prefix)
    }

    /// A raw connection to the test Redis.
    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .expect("valid url")
            .get_multiplexed_async_connection()
            .await
            .expect("connect to test Redis")
    }

    /// Every key under this test's prefix.
    pub async fn keys(&self) -> Vec<String> {
        let mut conn = self.redis().await;
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}:*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .expect("SCAN");
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys
    }

    /// Deletes every key under this test's prefix.
    pub async fn cleanup(&self) {
        let keys = self.keys().await;
        if keys.is_empty() {
            return;
        }
        let mut conn = self.redis().await;
        for chunk in keys.chunks(500) {
            let _: i64 = redis::cmd("UNLINK")
                .arg(chunk)
                .query_async(&mut conn)
                .await
                .expect("UNLINK");
        }
    }
}

/// Polls `check` every 20 ms until it returns true or `timeout` passes.
/// Returns whether it became true.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A worker builder for in-process tests: both test job types registered,
/// short lease, quick idle poll.
pub fn test_worker(env: &TestEnv) -> jobqueue_worker::WorkerBuilder {
    jobqueue_worker::Worker::builder(env.client.clone())
        .register::<jobs::TestJob>()
        .register::<jobs::NoopJob>()
        .register::<probe::ProbeJob>()
        .lease(Duration::from_secs(2))
        .idle_poll_interval(Duration::from_millis(250))
        .shutdown_grace(Duration::from_secs(5))
}

impl TestEnv {
    /// The trace key stem for test jobs of this test.
    pub fn trace_key(&self) -> String {
        format!("{}:trace", self.prefix)
    }

    /// A `TestJob` recording into this test's traces.
    pub fn test_job(&self) -> jobs::TestJob {
        jobs::TestJob::new(&self.url, &self.trace_key())
    }

    /// Job id → successful runs.
    pub async fn done(&self) -> std::collections::HashMap<String, u64> {
        jobs::trace_counts(&self.url, &format!("{}:done", self.trace_key())).await
    }

    /// Job id → started runs.
    pub async fn started(&self) -> std::collections::HashMap<String, u64> {
        jobs::trace_counts(&self.url, &format!("{}:started", self.trace_key())).await
    }

    /// `"<id>:<attempt>"` for every start, in start order.
    pub async fn attempts(&self) -> Vec<String> {
        let mut conn = self.redis().await;
        redis::cmd("LRANGE")
            .arg(format!("{}:attempts", self.trace_key()))
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .expect("LRANGE")
    }

    /// How many distinct jobs finished successfully (cheap: HLEN).
    pub async fn done_count(&self) -> u64 {
        jobs::trace_len(&self.url, &format!("{}:done", self.trace_key())).await
    }

    /// Waits until `n` distinct jobs finished successfully.
    pub async fn wait_done(&self, n: usize, timeout: Duration) -> bool {
        eventually(timeout, || async { self.done_count().await >= n as u64 }).await
    }
}

/// The README's code compiles (`cargo test --doc -p jobqueue-integration`), so the
/// front door never shows an API that does not exist.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
