//! One file per page: what it reads from the operator API and how it
//! shows it (and, for operators, the forms it offers).

#[cfg(feature = "alerts")]
pub(crate) mod alerts;
pub(crate) mod audit;
pub(crate) mod batches;
pub(crate) mod cron;
pub(crate) mod groups;
pub(crate) mod history;
pub(crate) mod job;
pub(crate) mod job_durable;
pub(crate) mod job_logs;
pub(crate) mod jobs;
pub(crate) mod keys;
pub(crate) mod limits;
pub(crate) mod overview;
pub(crate) mod queues;
pub(crate) mod scaling;
pub(crate) mod search;
pub(crate) mod workers;
pub(crate) mod workflows;
