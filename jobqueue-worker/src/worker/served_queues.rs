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

#[cfg(test)]
mod tests {
    use jobqueue_core::{Job, JobContext, JobError};

    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Mail;
    impl Job for Mail {
        const NAME: &'static str = "mail";
        const QUEUE: &'static str = "mail";
        async fn perform(&self, _: &JobContext) -> Result<(), JobError> {
            Ok(())
        }
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Report;
    impl Job for Report {
        const NAME: &'static str = "report";
        async fn perform(&self, _: &JobContext) -> Result<(), JobError> {
            Ok(())
        }
    }

    fn registry() -> Registry {
        let mut registry = Registry::default();
        registry.register::<Mail>();
        registry.register::<Report>();
        registry
    }

    #[test]
    fn the_registered_queues_are_served_with_equal_weights() {
        let mut one = Registry::default();
        one.register::<Mail>();
        let resolved = resolve(QueueOrder::Registered, &one, &[], false).ok();
        assert_eq!(resolved, Some(QueueOrder::Strict(vec!["mail".into()])));

        let nightly = CronEntry::new("nightly", "0 0 3 * * *", &Report)
            .and_then(|entry| entry.queue("maintenance"))
            .ok();
        let cron: Vec<CronEntry> = nightly.into_iter().collect();
        let resolved = resolve(QueueOrder::Registered, &registry(), &cron, false).ok();
        let expected = [("default", 1), ("mail", 1), ("maintenance", 1)];
        assert_eq!(
            resolved,
            Some(QueueOrder::Weighted(
                expected
                    .iter()
                    .map(|(q, w)| ((*q).to_owned(), *w))
                    .collect()
            ))
        );
    }

    #[test]
    fn a_list_must_serve_every_registered_queue_unless_allowed() {
        let listed = QueueOrder::Strict(vec!["default".into()]);
        let refused = resolve(listed.clone(), &registry(), &[], false);
        assert!(
            matches!(&refused, Err(WorkerError::UnservedJobType { job_type, queue }) if job_type == "mail" && queue == "mail"),
            "{refused:?}"
        );
        assert_eq!(
            resolve(listed.clone(), &registry(), &[], true).ok(),
            Some(listed)
        );
    }
}
