//! Fault-injection harness shared by the `chaos_*` tests (issue 5).
//!
//! Every scenario runs real `test_worker` processes against a private
//! `redis-server`, injects a fault (SIGKILL, SIGTERM, Redis crash,
//! connection cuts, hostile input, clock skew, volume), then audits the run
//! from Redis: the trace every [`crate::jobs::TestJob`] leaves when it runs
//! tells which accepted jobs ran, and how many ran more than once.
//!
//! * [`params`]: scenario sizes from `JQ_CHAOS_*` environment variables, so
//!   one test body serves the short CI run and the long `scripts/chaos` run.
//! * [`audit`]: the delivery audit (accepted vs ran: lost, duplicates).
//! * [`figures`]: one JSON line of figures per scenario, for
//!   `docs/reliability.md`.
//! * [`connection_counter`]: counts reconnect attempts while Redis is down.
//! * [`fleet`]: a set of worker processes to kill, stop and restart.
//! * [`memory`]: Redis's `used_memory`.
//! * [`producer`]: bulk enqueueing of traced jobs.
//! * [`queue_info`](mod@queue_info): a queue's info read after a fault, retried.
//! * [`skew`]: worker processes with a skewed wall clock (libfaketime).

pub mod audit;
pub mod connection_counter;
pub mod figures;
pub mod fleet;
pub mod memory;
pub mod params;
pub mod producer;
pub mod queue_info;
pub mod skew;

pub use audit::DeliveryAudit;
pub use connection_counter::ConnectionCounter;
pub use figures::Figures;
pub use fleet::{Fleet, KillRecord};
pub use params::{param, param_text};
pub use queue_info::queue_info;
