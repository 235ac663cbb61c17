//! What the pages' forms post to, one file per thing an operator acts on
//! (like [`crate::actions`], which each handler calls). Every handler
//! takes an [`operator_form::OperatorForm`], which does what they share,
//! and redirects back (303) with the result.

pub(crate) mod batches;
pub(crate) mod cron;
pub(crate) mod jobs;
pub(crate) mod keys;
pub(crate) mod limits;
pub(crate) mod operator_form;
pub(crate) mod queues;
pub(crate) mod search;
pub(crate) mod watch;
pub(crate) mod workflows;
