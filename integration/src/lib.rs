//! What jobqueue's integration tests share beyond what a user's tests get
//! from `jobqueue-testing` (whose [`jobqueue_testing::TestRedis`] gives
//! every test its prefix, client and clean-up, and whose
//! [`jobqueue_testing::eventually`] and drain helpers the tests use as a
//! user would):
//!
//! * [`setup`]: [`test_redis`], that `TestRedis` with log output on.
//! * [`jobs`], [`probe`]: test jobs that leave a record in Redis each time
//!   they run; [`traces`] reads them back ([`TestJobTraces`]).
//! * [`batch_fixtures`]: callback jobs that record their runs, a job that
//!   dies once, a batch's info: what the batch tests share.
//! * [`waiting`]: [`waiting::wait_for`] a condition, failing the test if
//!   it never holds.
//! * [`durable_job`]: a job of memoised steps, sleeps and signal waits
//!   that counts every closure run.
//! * [`in_process_worker`]: [`test_worker`], a worker builder with those
//!   jobs registered.
//! * [`job_logs`]: the per-job log capture layer installed in a test
//!   process, and whether a job's logs key exists.
//! * [`worker_process`]: the `test_worker` binary as a child process
//!   ([`WorkerProcess`]), for tests that kill or signal workers.
//! * [`redis_server`], [`redis_cluster`], [`redis_sentinel`], [`tls_certs`]:
//!   private Redis deployments on free ports, for tests that stop, fail
//!   over or encrypt Redis (never the shared one).
//! * [`raw_push`]: [`raw_push::push_without_wake_up`], a job pushed with a
//!   bare `RPUSH` and no published wake-up.
//! * [`locate`]: where every job of a queue is, in one atomic snapshot
//!   (DESIGN.md invariant 1).
//! * [`dashboard`]: the dashboard router over a test's prefix, and its
//!   fixtures.
//! * [`chaos`]: the fault-injection harness of the `chaos_*` tests.

pub mod batch_fixtures;
pub mod chaos;
pub mod dashboard;
pub mod durable_job;
pub mod in_process_worker;
pub mod job_logs;
pub mod jobs;
pub mod locate;
pub mod probe;
pub mod raw_push;
pub mod redis_cluster;
pub mod redis_sentinel;
pub mod redis_server;
pub mod setup;
pub mod step_job;
pub mod tls_certs;
pub mod traces;
pub mod waiting;
pub mod worker_process;

pub use in_process_worker::test_worker;
pub use redis_cluster::RedisCluster;
pub use redis_server::RedisServer;
pub use setup::{init_tracing, test_redis, test_redis_on};
pub use traces::TestJobTraces;
pub use worker_process::WorkerProcess;
