//! One module per `jobqueue` subcommand, plus what they share: exit codes
//! ([`exit`]), tables and JSON (`output.rs`), the filter options
//! ([`filter`]), the known-queue check and the audit-log entry.

pub mod alerts;
pub(crate) mod audit;
pub mod batches;
pub mod cancel;
pub(crate) mod confirm;
pub mod cron;
pub mod events;
pub mod exit;
pub mod filter;
pub mod history;
pub(crate) mod job_logs;
pub mod jobs;
pub mod key_limits;
pub(crate) mod known_queue;
pub mod limits;
pub mod migrate;
pub(crate) mod output;
pub mod payload_keys;
pub(crate) mod purge_prefix;
pub mod queue_actions;
pub mod retry_delete;
pub mod scaling;
pub mod search;
pub mod serve;
pub mod signal;
pub(crate) mod stats;
pub mod weights;
pub mod workflows;
