//! Sending one prepared job: the single-enqueue hot path (a bare `RPUSH`,
//! or one script call), and the arguments the enqueue scripts take for a
//! unique job or a job with a given id.

use crate::client::handle::Client;
use crate::client::idempotency::{key_outcome, keyed_enqueue};
use crate::client::prepared::{Destination, PreparedJob, PreparedUnique};
use crate::client::unique::UniqueOutcome;
use crate::error::Error;
use crate::store::ops::enqueue_unique::UniqueEnqueue;
use crate::store::ops::enqueue_with_id::{IdEnqueue, IdOutcome};

impl Client {
    /// Sends one prepared job (the single-enqueue hot path: a bare `RPUSH`
    /// or one script call).
    pub(crate) async fn send_one(&self, job: PreparedJob) -> Result<UniqueOutcome, Error> {
        if job.dependents {
            return self
                .enqueue_prepared_outcomes([job])
                .await?
                .pop()
                .unwrap_or_else(|| Err(Error::protocol("enqueue", "no outcome for the job")));
        }
        if job.track {
            self.write_initial_statuses(std::slice::from_ref(&job))
                .await?;
        }
        self.note_enqueuing(std::slice::from_ref(&job)).await;
        let sent = if job.after.is_empty() {
            self.send_alone(&job).await
        } else {
            self.send_waiting(&job).await
        };
        let outcome = sent.map_err(|err| self.write_error(err))?;
        self.drop_unused_status(&job, &outcome).await;
        self.note_enqueued(&[(&job, &outcome)]).await;
        Ok(outcome)
    }

    /// Sends one job that has neither parents nor dependents.
    async fn send_alone(&self, job: &PreparedJob) -> Result<UniqueOutcome, Error> {
        let queue = self.queue_keys(&job.queue).await?;
        let store = &self.store();
        let outcome = if let Some(unique) = &job.unique {
            store
                .enqueue_unique(&queue, &unique_enqueue(job, unique))
                .await?
        } else if let Some(key) = &job.idempotency {
            let outcome = store
                .enqueue_idempotent(
                    &queue,
                    &keyed_enqueue(job, key),
                    self.idempotency_window_ms()?,
                )
                .await?;
            key_outcome(outcome, &job.queue)?
        } else if job.given_id {
            let mut outcomes = store
                .enqueue_with_id(&queue, &[id_enqueue(job)], self.idempotency_window_ms()?)
                .await?;
            let outcome = outcomes
                .pop()
                .ok_or_else(|| Error::protocol("enqueue", "no outcome for the job"))?;
            id_outcome(outcome, &job.queue)?
        } else {
            match job.destination {
                Destination::Ready => store.enqueue_ready(&queue, &job.record).await.map(|_| ())?,
                Destination::Priority => store.enqueue_priority(&queue, &job.record).await?,
                Destination::Scheduled(at) => store.schedule(&queue, &job.record, at).await?,
            }
            UniqueOutcome::Enqueued { id: job.id }
        };
        self.confirm_replicated(&queue).await?;
        Ok(outcome)
    }
}

/// A job with a given id, as `enqueue_with_id.lua` takes it.
pub(crate) fn id_enqueue(job: &PreparedJob) -> IdEnqueue<'_> {
    IdEnqueue {
        id: job.id,
        record: &job.record,
        at: match job.destination {
            Destination::Scheduled(at) => Some(at),
            Destination::Ready | Destination::Priority => None,
        },
    }
}

/// The caller's view of what `enqueue_with_id.lua` did with a job.
pub(crate) fn id_outcome(outcome: IdOutcome, queue: &str) -> Result<UniqueOutcome, Error> {
    match outcome {
        IdOutcome::Enqueued(id) => Ok(UniqueOutcome::Enqueued { id }),
        IdOutcome::Exists(existing) => Ok(UniqueOutcome::Exists { existing }),
        IdOutcome::Taken(id) => Err(Error::DuplicateId {
            op: "enqueue",
            queue: queue.to_owned(),
            id,
        }),
    }
}

/// The script arguments of a unique job.
pub(crate) fn unique_enqueue<'a>(
    job: &'a PreparedJob,
    unique: &'a PreparedUnique,
) -> UniqueEnqueue<'a> {
    UniqueEnqueue {
        digest: &unique.digest,
        ttl_ms: unique.ttl_ms,
        mode: unique.mode,
        record: &job.record,
        at: match job.destination {
            Destination::Scheduled(at) => Some(at),
            Destination::Ready | Destination::Priority => None,
        },
    }
}
