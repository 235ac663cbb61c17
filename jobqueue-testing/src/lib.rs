//! # jobqueue-testing
//!
//! Test helpers for applications built on jobqueue, in the spirit of
//! Sidekiq's testing modes, Oban.Testing and River's `rivertest` — but
//! against a **real Redis**, with an isolated random key prefix per test
//! instead of a fake, so what a test sees is what production does.
//!
//! * [`TestRedis`]: a client under a fresh prefix; every key under it is
//!   deleted when the test ends.
//! * [`TestRedis::assert_enqueued`], [`TestRedis::enqueued`]: the jobs the
//!   code under test enqueued, decoded into their types.
//! * [`TestRedis::drain`]: run every ready job inline, one at a time,
//!   through your registered handlers (retries too, with
//!   [`DrainOptions::with_retries`]), and get a [`DrainReport`].
//! * [`TestRedis::advance`]: move time forward for delayed jobs and retries.
//! * [`eventually`]: wait for what a real background worker does.
//! * [`TestRedis::keys`], [`TestRedis::connection`]: look at the test's
//!   keys directly; [`TestRedis::reconnect_with`]: test with other client
//!   settings (timeouts, TLS, Sentinel, Cluster) under the same prefix.
//!
//! ```no_run
//! use jobqueue_core::{Client, Job, JobContext, JobError};
//! use jobqueue_testing::TestRedis;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct SendWelcomeEmail { email: String }
//!
//! impl Job for SendWelcomeEmail {
//!     const NAME: &'static str = "send_welcome_email";
//!     async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> { Ok(()) }
//! }
//!
//! // The code under test: enqueues a job.
//! async fn sign_up(jobs: &Client, email: &str) -> Result<(), jobqueue_core::Error> {
//!     jobs.enqueue(SendWelcomeEmail { email: email.to_owned() }).await?;
//!     Ok(())
//! }
//!
//! #[tokio::test]
//! async fn signing_up_sends_a_welcome_email() -> Result<(), Box<dyn std::error::Error>> {
//!     let t = TestRedis::new().await?;
//!     sign_up(&t.client(), "ada@example.com").await?;
//!
//!     t.assert_enqueued::<SendWelcomeEmail>(|job| job.email == "ada@example.com").await;
//!     let report = t.drain(t.worker().register::<SendWelcomeEmail>()).await?;
//!     assert_eq!(report.succeeded(), 1);
//!     Ok(())
//! }
//! ```
//!
//! ## In CI
//!
//! The helpers need a Redis 7+: they use `JOBQUEUE_TEST_REDIS_URL`, else
//! `JOBQUEUE_REDIS_URL`, else `redis://127.0.0.1:6379`. In GitHub Actions a
//! service container is enough:
//!
//! ```yaml
//! services:
//!   redis:
//!     image: redis:7
//!     ports: ["6379:6379"]
//! ```
//!
//! Tests run in parallel safely (one prefix each), and can share the Redis
//! with anything else: they only touch keys under `jqtest-…`. Set
//! `JOBQUEUE_TEST_KEEP_KEYS=1` to keep a failing test's keys and look at
//! them with `redis-cli --scan --pattern 'jqtest-*'`.
// The inline drain awaits the whole worker run path (middleware, the
// runner, tracing) inside one future; its type is deeper than rustc's
// default query depth allows.
#![recursion_limit = "256"]
#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::too_many_lines)]
// Dev-dependencies are in scope for the unit tests too, so the check runs
// on the library build only.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod cleanup;
mod clock;
mod drain;
mod enqueued;
mod error;
mod eventually;
mod test_redis;

pub use drain::{DEFAULT_DRAIN_LIMIT, DrainOptions, DrainReport};
pub use enqueued::Enqueued;
pub use error::TestingError;
pub use eventually::eventually;
pub use jobqueue_worker::{InlineOutcome, InlineRun};
/// The `redis` crate the helpers are built on, for commands of your own on
/// [`TestRedis::connection`] without a second, possibly different, version.
pub use redis;
pub use test_redis::{ENV_KEEP_KEYS, ENV_TEST_REDIS_URL, TestRedis, test_redis_url};

// Dev-dependencies of the doctests and of tests/: the unit-test build of
// this crate sees them too, and would call them unused.
#[cfg(test)]
use {serde as _, serde_json as _};
