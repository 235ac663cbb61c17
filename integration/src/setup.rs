//! Per-test setup: jobqueue-testing's [`TestRedis`] (a fresh prefix, its
//! client, its keys deleted when the test ends), with this crate's log
//! output switched on. The one place the integration tests get their slice
//! of Redis from.

use jobqueue_testing::{TestRedis, test_redis_url};

/// Installs a tracing subscriber once (RUST_LOG controls it; quiet by
/// default), so a failing test shows the worker's warnings.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

/// A fresh prefix labelled `label` on the test Redis
/// (`JOBQUEUE_TEST_REDIS_URL`).
pub async fn test_redis(label: &str) -> TestRedis {
    test_redis_on(&test_redis_url(), label).await
}

/// A fresh prefix labelled `label` on the Redis at `url` (a private server
/// the test stops or restarts).
pub async fn test_redis_on(url: &str, label: &str) -> TestRedis {
    init_tracing();
    TestRedis::on(url, label)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test Redis at {url}: {e}"))
}
