//! [`test_worker`]: the worker builder in-process tests start from.

use std::time::Duration;

use jobqueue_testing::TestRedis;
use jobqueue_worker::WorkerBuilder;

use crate::durable_job::DurableJob;
use crate::jobs::{NoopJob, TestJob};
use crate::probe::ProbeJob;

/// A worker builder on the test's client with this crate's job types
/// registered ([`TestJob`], [`NoopJob`], [`ProbeJob`]), a short lease and a
/// quick idle poll, so tests about failures do not wait long. Tests send
/// these jobs to queues of their own with `.queue(..)` and list them with
/// `.queues(..)`, so the type's own queue may go unserved.
pub fn test_worker(t: &TestRedis) -> WorkerBuilder {
    t.worker()
        .allow_unserved_queues()
        .register::<TestJob>()
        .register::<NoopJob>()
        .register::<ProbeJob>()
        .register::<DurableJob>()
        .lease(Duration::from_secs(2))
        .idle_poll_interval(Duration::from_millis(250))
        .shutdown_grace(Duration::from_secs(5))
}
