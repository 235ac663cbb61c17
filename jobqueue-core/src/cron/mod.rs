//! Cron (periodic) jobs: [`CronEntry`] enqueues a job on a cron schedule,
//! exactly once per tick however many processes run it.
//!
//! * [`CronSchedule`]: the expression (seconds optional) and its time zone.
//! * [`CronEntry`]: schedule + job + queue + [`Misfire`] policy.
//! * A scheduler pass ([`CronEntry::run_pass`]) enqueues the ticks due
//!   within [`LOOKAHEAD_MS`] as scheduled jobs through `cron_tick.lua`, a
//!   compare-and-set on the entry's progress, so one process wins each
//!   tick. Workers make passes for the entries registered on them.
//! * The operator API ([`crate::Admin::cron_entries`] and friends) lists
//!   entries with next run, last run and its result, pauses, resumes,
//!   runs now and removes them.
//!
//! `docs/flow-control.md` explains the whole mechanism.

pub(crate) mod entry;
pub(crate) mod run_result;
mod schedule;
mod tick;

pub use entry::{CronEntry, MAX_CRON_NAME_LEN, MAX_MISFIRE_RUNS, Misfire, validate_cron_name};
pub use run_result::{CronOutcome, CronRunResult};
pub use schedule::CronSchedule;
pub use tick::{CronPass, LOOKAHEAD_MS, MISFIRE_GRACE_MS};
