//! One job's execution and outcome: the task a leased job runs in, the
//! run itself (decode, middleware, panics, the time limit, operator
//! cancellation), the outcome it comes to and how that is recorded, and the
//! reports beside it (a cron run's result, a tracked job's final status).

pub(crate) mod cron_result;
pub(crate) mod job_task;
pub(crate) mod job_watch;
pub(crate) mod leased;
pub(crate) mod outcome;
pub(crate) mod recording;
pub(crate) mod runner;
pub(crate) mod status_report;
pub(crate) mod trace_link;
