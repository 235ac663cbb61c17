//! [`eventually`]: waiting for what a background worker does.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often [`eventually`] checks.
const POLL: Duration = Duration::from_millis(20);

/// Checks `check` every 20 ms until it returns true or `timeout` has
/// passed; returns whether it did. For tests with a real background worker
/// (`t.worker().register::<J>().start()`), where jobs run in other tasks
/// and the test can only wait for their effect. A test with no worker of
/// its own runs jobs with [`crate::TestRedis::drain`] instead, and needs no
/// waiting.
///
/// ```
/// # use jobqueue_core::{Job, JobContext, JobError};
/// # use serde::{Deserialize, Serialize};
/// # use std::time::Duration;
/// # #[derive(Serialize, Deserialize)] struct Ping;
/// # impl Job for Ping {
/// #     const NAME: &'static str = "ping";
/// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
/// # }
/// use jobqueue_testing::{TestRedis, eventually};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let t = TestRedis::new().await?;
/// let worker = t.worker().register::<Ping>().start().await?;
/// t.client().enqueue(Ping).await?;
/// let admin = t.client().admin();
/// let ran = eventually(Duration::from_secs(10), || async {
///     admin.queue("default").await.is_ok_and(|queue| queue.processed == 1)
/// })
/// .await;
/// worker.shutdown().await;
/// assert!(ran, "the worker did not run the job in 10 s");
/// # Ok(()) }
/// ```
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}
