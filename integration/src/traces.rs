//! Reading the traces [`TestJob`] leaves in Redis, and [`TestJobTraces`]:
//! the same for the jobs of one test, as methods of its [`TestRedis`].

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use jobqueue_testing::{TestRedis, eventually};
use redis::AsyncCommands;

use crate::jobs::TestJob;

/// [`TestJob`]s recording under a test's prefix, and what they recorded.
pub trait TestJobTraces {
    /// The key stem of the test's traces (`<prefix>:trace`).
    fn trace_key(&self) -> String;

    /// A [`TestJob`] recording into the test's traces.
    fn test_job(&self) -> TestJob;

    /// Job id → successful runs.
    fn done(&self) -> impl Future<Output = HashMap<String, u64>> + Send;

    /// Job id → started runs.
    fn started(&self) -> impl Future<Output = HashMap<String, u64>> + Send;

    /// `"<id>:<attempt>"` for every start, in start order.
    fn attempts(&self) -> impl Future<Output = Vec<String>> + Send;

    /// How many distinct jobs finished successfully (cheap: HLEN).
    fn done_count(&self) -> impl Future<Output = u64> + Send;

    /// Waits until `n` distinct jobs finished successfully; false when
    /// `timeout` passed first.
    fn wait_done(&self, n: usize, timeout: Duration) -> impl Future<Output = bool> + Send;
}

impl TestJobTraces for TestRedis {
    fn trace_key(&self) -> String {
        format!("{}:trace", self.prefix())
    }

    fn test_job(&self) -> TestJob {
        TestJob::new(self.url(), &self.trace_key())
    }

    async fn done(&self) -> HashMap<String, u64> {
        trace_counts(self.url(), &format!("{}:done", self.trace_key())).await
    }

    async fn started(&self) -> HashMap<String, u64> {
        trace_counts(self.url(), &format!("{}:started", self.trace_key())).await
    }

    async fn attempts(&self) -> Vec<String> {
        let mut conn = trace_reader(self.url()).await;
        conn.lrange(format!("{}:attempts", self.trace_key()), 0, -1)
            .await
            .expect("LRANGE")
    }

    async fn done_count(&self) -> u64 {
        trace_len(self.url(), &format!("{}:done", self.trace_key())).await
    }

    async fn wait_done(&self, n: usize, timeout: Duration) -> bool {
        eventually(timeout, || async { self.done_count().await >= n as u64 }).await
    }
}

/// Reads a trace hash (`{key}:started` or `{key}:done`): job id → count.
pub async fn trace_counts(url: &str, key: &str) -> HashMap<String, u64> {
    let mut conn = trace_reader(url).await;
    conn.hgetall(key).await.expect("HGETALL")
}

/// The number of entries of a trace hash (cheap, for progress polling).
pub async fn trace_len(url: &str, key: &str) -> u64 {
    let mut conn = trace_reader(url).await;
    conn.hlen(key).await.expect("HLEN")
}

/// A connection for reading traces. Long runs read hashes of a hundred
/// thousand entries from a busy Redis, so a reply may take a while.
async fn trace_reader(url: &str) -> redis::aio::MultiplexedConnection {
    let config =
        redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(60)));
    redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .expect("connect")
}
