//! The Redis store: the key layout, the connection, and one Rust file per
//! Lua script.
//!
//! **Internal API.** This layer is what [`crate::Client`], the worker
//! runtime and the operator API ([`crate::admin`]) are built on. It is
//! public so the other jobqueue crates can use it, but it is not a stable
//! interface: do not implement against it, and expect it to change between
//! minor versions. Applications use `Client`, `Admin` and the worker.
//!
//! | path | holds |
//! | --- | --- |
//! | `handle.rs` | [`Store`]: the connection and key builder every operation goes through |
//! | `keys.rs` | every Redis key name, built in one place |
//! | `conn/` | connections: single Redis, Sentinel, Cluster, the direct lane, TLS |
//! | `scripts.rs` | the script registry: loading, calling by SHA, pipelining |
//! | `ops/<stem>.rs` | one file per Lua script `src/lua/<stem>.lua`: the call and its reply |
//! | `commands/` | plain (non-script) commands: the queue registry, cron entries, reads for the operator API |
//! | `enqueue.rs` | routing a batch of new jobs to `RPUSH` or the enqueue scripts |
//! | `completion.rs` | recording a batch of finished jobs: ack, retry and bury calls in one round trip |
//! | `releases.rs` | the release outbox of job chains: telling dependents their parent ended |
//! | `ready_watch.rs` | an idle worker's blocking wait on a ready list (one hop from push to fetch) |
//! | `schema.rs` | the data-layout version and migrations |
//! | `reply.rs` | reading replies |
//!
//! Methods take the queue's [`QueueKeys`](keys::QueueKeys) (built once and
//! reused by callers on hot paths) and never hold state between calls:
//! every job's state lives in Redis. `docs/architecture.md` maps each
//! transition to its Lua file and the file here that calls it.

pub mod commands;
pub mod completion;
pub mod conn;
pub mod enqueue;
pub mod handle;
pub mod keys;
pub mod ops;
pub mod ready_watch;
pub mod releases;
pub(crate) mod reply;
pub mod schema;
pub(crate) mod scripts;
mod switch_cache;

/// Every Lua script as `(name, SHA1 of its full source)`: the include files
/// then the script, as docs/protocol.md defines. Clients in other languages
/// build the same source from the same files; their tests compare against
/// this list (`clients/python`, `examples/tests/python_client.rs`).
pub fn script_digests() -> Vec<(&'static str, &'static str)> {
    scripts::SCRIPTS
        .all()
        .iter()
        .map(|script| (script.name(), script.sha()))
        .collect()
}
mod waiting_keys;

pub use commands::cron::CronState;
pub use commands::queue_registry::QueueRegistry;
pub use completion::{BatchEndings, CompletionBatch, CompletionCalls, CompletionReport};
pub use conn::topology::RedisTopology;
pub use conn::{ConnectionSettings, RedisConnection};
pub use handle::Store;
pub use ops::batch_open::BatchOpen;
pub use ops::bury::{BuryEntry, DeadLimits};
pub use ops::cron_tick::CronTickOutcome;
pub use ops::enqueue_waiting::WaitingOutcome;
pub use ops::fetch::{FetchReply, FetchStatus, MAX_FETCH_BATCH, parse_fetch_reply};
pub use ops::promote::PromoteReply;
pub use ops::retry::RetryEntry;
pub use ops::schedule::ScheduleAt;
pub use releases::SWEEP_BATCH;
