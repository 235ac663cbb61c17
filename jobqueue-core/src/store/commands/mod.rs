//! Plain (non-script) commands of the store: each reads or writes what one
//! Lua transition does not, named for what it touches.

pub mod audit;
pub mod cron;
pub mod queue_registry;
