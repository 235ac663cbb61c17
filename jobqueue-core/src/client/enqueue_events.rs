//! The `enqueued` events a producer writes to a queue's event stream when
//! it is on: no script sees a plain enqueue (a bare `RPUSH`), so the
//! client writes them, reading the queue's switch at most once a second
//! (`store/commands/observe.rs`).
//!
//! A job that is always stored (no uniqueness, idempotency key or given
//! id) gets its event **before** it is sent, and the event's write is
//! awaited first: a worker can then never report `started` ahead of
//! `enqueued`. Should the enqueue itself fail, its caller gets the error
//! and the stream holds an `enqueued` event of a job that does not exist.
//! A job that may be refused or merged into another gets its event after
//! the enqueue answered, only when it was stored; a fast worker's `started`
//! may then come first. Best effort both ways: a failure to write events
//! is logged, never the enqueue's error.

use crate::client::handle::Client;
use crate::client::prepared::PreparedJob;
use crate::client::unique::UniqueOutcome;
use crate::error::Error;

impl PreparedJob {
    /// True when enqueueing the job always stores it (nothing can refuse
    /// or merge it): its `enqueued` event is written before it is sent.
    pub(crate) fn always_stored(&self) -> bool {
        self.unique.is_none() && self.idempotency.is_none() && !self.given_id
    }
}

impl Client {
    /// Before `jobs` are sent: the `enqueued` events of those always
    /// stored, one stream entry per queue, awaited.
    pub(crate) async fn note_enqueuing(&self, jobs: &[PreparedJob]) {
        let stored: Vec<&PreparedJob> = jobs.iter().filter(|job| job.always_stored()).collect();
        self.write_enqueued(stored).await;
    }

    /// After `sent` were answered: the `enqueued` events of those not
    /// written before that were stored (not refused or merged).
    pub(crate) async fn note_enqueued(&self, sent: &[(&PreparedJob, &UniqueOutcome)]) {
        let stored: Vec<&PreparedJob> = sent
            .iter()
            .filter(|(job, outcome)| !job.always_stored() && outcome.id() == job.id)
            .map(|(job, _)| *job)
            .collect();
        self.write_enqueued(stored).await;
    }

    async fn write_enqueued(&self, jobs: Vec<&PreparedJob>) {
        if jobs.is_empty() {
            return;
        }
        let mut per_queue: Vec<(&str, Vec<&PreparedJob>)> = Vec::new();
        for job in jobs {
            match per_queue.iter_mut().find(|(queue, _)| *queue == job.queue) {
                Some((_, jobs)) => jobs.push(job),
                None => per_queue.push((&job.queue, vec![job])),
            }
        }
        for (queue, jobs) in per_queue {
            if let Err(err) = self.write_queue_enqueued(queue, &jobs).await {
                tracing::warn!(queue, error = %err, "could not write enqueued events");
            }
        }
    }

    async fn write_queue_enqueued(&self, queue: &str, jobs: &[&PreparedJob]) -> Result<(), Error> {
        let keys = self.queue_keys(queue).await?;
        let store = self.store();
        if store.event_stream_cap(&keys).await?.is_none() {
            return Ok(());
        }
        let ids: Vec<String> = jobs.iter().map(|job| job.id.to_string()).collect();
        store.emit_events(&keys, "enqueued", &ids, &[]).await
    }
}
