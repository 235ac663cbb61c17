//! Which queues a worker serves: the queues of its registered job types
//! and cron entries unless it was given a list, and a list that leaves
//! one of them out refused at start (a registered job that silently never
//! runs is worse than a worker that does not start).

use jobqueue_core::cron::CronEntry;

use crate::config::QueueOrder;
use crate::error::WorkerError;
use crate::state::registry::Registry;

/// Resolves [`QueueOrder::Registered`] into the registered queues, and
/// checks an explicit list serves every registered job type and cron
/// entry unless `allow_unserved`.
pub(super) fn resolve(
    order: QueueOrder,
    registry: &Registry,
    cron: &[CronEntry],
    allow_unserved: bool,
) -> Result<QueueOrder, WorkerError> {
    if order == QueueOrder::Registered {
        let mut names: Vec<String> = registry
            .default_queues()
            .map(|(_, queue)| queue.to_owned())
            .chain(cron.iter().map(|entry| entry.queue_name().to_owned()))
            .collect();
        names.sort();
        names.dedup();
        return Ok(match names.len() {
            1 => QueueOrder::Strict(names),
            _ => QueueOrder::Weighted(names.into_iter().map(|name| (name, 1)).collect()),
        });
    }
    if allow_unserved {
        return Ok(order);
    }
    let served = order.names();
    let serves = |queue: &str| served.iter().any(|name| name == queue);
    if let Some((job_type, queue)) = registry.default_queues().find(|(_, q)| !serves(q)) {
        return Err(WorkerError::UnservedJobType {
            job_type: job_type.to_owned(),
            queue: queue.to_owned(),
        });
    }
    if let Some(entry) = cron.iter().find(|entry| !serves(entry.queue_name())) {
        return Err(WorkerError::UnservedCronEntry {
            entry: entry.name().to_owned(),
            queue: entry.queue_name().to_owned(),
        });
    }
    Ok(order)
}
