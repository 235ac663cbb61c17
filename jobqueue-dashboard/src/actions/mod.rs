//! The operator actions: every state change the dashboard offers, in one
//! layer that the JSON API (`api/`) and the HTML forms (`ui/forms/`) both
//! call, one file per thing an operator acts on. Each action checks the
//! caller's role (again: the CSRF layer checked it before), runs the
//! operator API call and, when that changed something, writes the audit
//! log.
//!
//! The operator-API half of the cron, limits, key-class and weight actions (the
//! `apply_*` functions, the audit targets and the views) is public: the
//! `jobqueue` CLI runs the same calls and writes the same audit targets.

pub mod batches;
pub mod cron;
pub mod jobs;
pub mod keys;
pub mod limits;
pub(crate) mod outcome;
pub(crate) mod queues;
pub(crate) mod search;
pub(crate) mod signals;
pub mod watch;
pub mod weights;
pub mod workflows;
