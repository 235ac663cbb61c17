//! The `enqueued` events a producer writes to a queue's event stream when
//! it is on: no script sees a plain enqueue (a bare `RPUSH`), so the
//! client appends them after the jobs are stored, reading the queue's
//! switch at most once a second (`store/commands/observe.rs`). Best
//! effort: a failure to write them is logged, never the enqueue's error.

use crate::client::handle::Client;
use crate::client::prepared::PreparedJob;
use crate::client::unique::UniqueOutcome;
use crate::error::Error;

impl Client {
    /// Writes `enqueued` events for the jobs of `sent` that were stored
    /// (not refused or merged into another), one stream entry per queue.
    pub(crate) async fn note_enqueued<'a, I>(&self, sent: I)
    where
        I: IntoIterator<Item = (&'a PreparedJob, &'a UniqueOutcome)>,
    {
        let mut per_queue: Vec<(&str, Vec<&PreparedJob>)> = Vec::new();
        for (job, outcome) in sent {
            if outcome.id() != job.id {
                continue;
            }
            match per_queue.iter_mut().find(|(queue, _)| *queue == job.queue) {
                Some((_, jobs)) => jobs.push(job),
                None => per_queue.push((&job.queue, vec![job])),
            }
        }
        for (queue, jobs) in per_queue {
            if let Err(err) = self.write_enqueued(queue, &jobs).await {
                tracing::warn!(queue, error = %err, "could not write enqueued events");
            }
        }
    }

    async fn write_enqueued(&self, queue: &str, jobs: &[&PreparedJob]) -> Result<(), Error> {
        let keys = self.queue_keys(queue).await?;
        let store = self.store();
        if store.event_stream_cap(&keys).await?.is_none() {
            return Ok(());
        }
        let ids: Vec<String> = jobs.iter().map(|job| job.id.to_string()).collect();
        store.emit_events(&keys, "enqueued", &ids, &[]).await
    }
}
