//! The scenario catalogue: every item of issue 17's list, each scenario
//! naming the item it covers. A scenario is steps and assertions against
//! [`crate::scenario::Ctx`]; nothing in it depends on the language of the
//! producer or the worker.

mod cancel;
mod chains;
mod enqueue;
mod flow;
mod poison;
mod recovery;
mod running;
mod status;
mod unique;

use crate::scenario;
use crate::scenario::Scenario;

/// Every scenario, run for each adapter in both roles.
pub fn all() -> Vec<Scenario> {
    vec![
        scenario!("enqueue.single", "enqueue (single)", enqueue::single),
        scenario!("enqueue.bulk", "enqueue (bulk)", enqueue::bulk),
        scenario!("enqueue.delayed", "enqueue (delayed)", enqueue::delayed),
        scenario!(
            "enqueue.with_options",
            "enqueue (with options)",
            enqueue::with_options
        ),
        scenario!(
            "enqueue.refuses_invalid",
            "poison input handling (producer)",
            enqueue::refuses_invalid
        ),
        scenario!(
            "worker.fetch_with_lease",
            "fetch with a lease",
            running::fetch_with_lease
        ),
        scenario!(
            "worker.heartbeat_renews_lease",
            "heartbeat",
            running::heartbeat
        ),
        scenario!("worker.ack_with_result", "ack", running::ack_with_result),
        scenario!(
            "worker.retry_with_backoff",
            "retry with backoff",
            running::retry_with_backoff
        ),
        scenario!(
            "worker.bury_with_error_history",
            "bury with the error history",
            running::bury_with_error_history
        ),
        scenario!(
            "lease.reclaim_after_kill",
            "lease expiry and reclaim",
            recovery::reclaim_after_kill
        ),
        scenario!(
            "lease.crashed_job_out_of_attempts",
            "lease expiry and reclaim",
            recovery::crashed_job_out_of_attempts
        ),
        scenario!(
            "cancel.running_job_stops",
            "cancellation",
            cancel::running_job_stops
        ),
        scenario!(
            "cancel.waiting_job_never_runs",
            "cancellation",
            cancel::waiting_job_never_runs
        ),
        scenario!(
            "flow.one_job_per_key_at_a_time",
            "flow keys and limits",
            flow::one_job_per_key
        ),
        scenario!(
            "flow.queue_running_limit",
            "flow keys and limits",
            flow::queue_running_limit
        ),
        scenario!(
            "unique.duplicate_returns_the_holder",
            "unique jobs",
            unique::duplicate_returns_the_holder
        ),
        scenario!("chain.runs_in_order", "chains", chains::runs_in_order),
        scenario!(
            "chain.dead_parent_stops_the_rest",
            "chains",
            chains::dead_parent_stops_the_rest
        ),
        scenario!(
            "shutdown.hands_back",
            "graceful shutdown hand-back",
            recovery::shutdown_hands_back
        ),
        scenario!(
            "shutdown.finishes_within_grace",
            "graceful shutdown hand-back",
            recovery::shutdown_finishes_within_grace
        ),
        scenario!(
            "poison.dead_lettered_with_reason",
            "poison input handling (worker)",
            poison::dead_lettered_with_reason
        ),
        scenario!(
            "status.lifecycle",
            "reading results and status",
            status::lifecycle
        ),
    ]
}

/// Names a subset of the scenarios to run: comma-separated parts of their
/// names (`JOBQUEUE_CONFORMANCE_SCENARIOS=lease.,status`); unset runs all.
pub const ENV_SCENARIOS: &str = "JOBQUEUE_CONFORMANCE_SCENARIOS";

/// [`all`], narrowed by `JOBQUEUE_CONFORMANCE_SCENARIOS` when it is set.
pub fn selected() -> Vec<Scenario> {
    let filter = std::env::var(ENV_SCENARIOS).unwrap_or_default();
    let parts: Vec<&str> = filter
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    all()
        .into_iter()
        .filter(|s| parts.is_empty() || parts.iter().any(|part| s.name.contains(part)))
        .collect()
}

/// The basic path run for every producer × every worker.
pub fn cross() -> Scenario {
    scenario!(
        "cross.enqueue_run_result",
        "enqueue → run → result across implementations",
        status::enqueue_run_result
    )
}

/// The scenario named `name`, if there is one.
pub fn named(name: &str) -> Option<Scenario> {
    all().into_iter().chain([cross()]).find(|s| s.name == name)
}
