//! Plain (non-script) commands of the store: each reads or writes what one
//! Lua transition does not, named for what it touches.

pub mod alerts;
pub mod audit;
pub mod batches;
pub mod cron;
pub mod dependencies;
pub mod flow_keys;
pub mod flow_waits;
pub mod flow_weights;
pub mod job_logs;
pub mod job_sets;
pub mod key_space;
pub mod limits;
pub mod observe;
pub mod queue_info;
pub mod queue_registry;
pub mod scaling;
pub mod server;
pub mod sessions;
pub mod status;
pub mod steps;
pub mod tags;
pub mod workers;
pub mod workflows;
