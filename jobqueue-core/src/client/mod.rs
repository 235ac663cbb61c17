//! [`Client`]: the producer. Enqueues typed jobs, one at a time or in bulk.
//!
//! | file | holds |
//! | --- | --- |
//! | `handle.rs` | [`Client`]: connection, configuration, what every enqueue path shares |
//! | `builder.rs` | [`JobBuilder`](builder::JobBuilder) and the `enqueue*` entry points |
//! | `options.rs` | [`JobOptions`](options::JobOptions) and the types of its fields |
//! | `prepare.rs` | checking options and encoding a job into a [`PreparedJob`](prepared::PreparedJob) |
//! | `prepared.rs` | a job ready to send, and where it goes |
//! | `send.rs` | sending one job: a bare `RPUSH`, or one script call |
//! | `bulk.rs` | sending many jobs in one round trip |
//! | `after.rs` | jobs that run after their parents (chains, fan-in) |
//! | `unique.rs` | unique jobs: modes, keys, outcomes |
//! | `status.rs` | a job's status: state, progress, result, error |
//! | `enqueue_status.rs` | a tracked job's first status, written at enqueue |
//! | `cancel.rs` | cancelling a job wherever it is |
//! | `events.rs` | [`Client::events`]: a queue's lifecycle events as a stream |
//! | `enqueue_events.rs` | the `enqueued` events a producer writes when a queue's events are on |
//! | `batch.rs` | batches: jobs tracked as one, with callbacks |

pub(crate) mod after;
pub mod batch;
pub mod builder;
mod bulk;
pub mod cancel;
mod enqueue_events;
mod enqueue_status;
pub mod events;
mod handle;
pub(crate) mod idempotency;
pub mod options;
mod prepare;
pub mod prepared;
mod send;
pub mod signal;
pub mod status;
pub mod unique;

pub use handle::{Client, MAX_PRIORITY};
