//! Batches: many jobs tracked as one, with callbacks when they are done.
//!
//! [`Client::batch`] starts a [`BatchBuilder`]; [`BatchBuilder::enqueue`]
//! creates, fills and seals a batch in one go, [`BatchBuilder::create`]
//! returns a held [`Batch`] to fill in chunks ([`Batch::add`]) and then
//! [`Batch::seal`]. A batch may be the child of another
//! ([`Batch::child`], [`BatchBuilder::child_of`]), counted there as one
//! job. A running job of the batch adds to it through
//! [`Client::batch_ref`] with the id its context gives
//! ([`JobContext::batch`](crate::JobContext::batch)).
//!
//! The batch lives on its home queue (`P:{Q}:batch:<bid>`), with its jobs
//! and its callbacks: every count changes in the script that ends a job,
//! in that queue's hash slot (see `include/batch.lua`). Jobs of a batch run
//! now, on its queue, without priority, uniqueness, flow key, expiry,
//! parents or dependents — those are refused with a clear error before
//! anything is sent. `docs/batches-and-workflows.md` has the semantics.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::client::handle::Client;
use crate::client::options::{JobOptions, RunAt};
use crate::client::prepared::{Destination, PreparedJob};
use crate::error::Error;
use crate::job::stateful::StatefulJob;
use crate::store::keys::QueueKeys;
use crate::store::ops::batch_open::BatchOpen;
use crate::store::scripts::MAX_RECORDS_PER_CALL;

/// How long a finished batch's bookkeeping is kept by default: 24 hours.
pub const DEFAULT_BATCH_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// How long a batch held open by its producer (created, not sealed yet)
/// lives after its creation or last add, by default: 24 hours.
pub const DEFAULT_BATCH_OPEN_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Longest batch description kept, in bytes.
pub const MAX_BATCH_DESCRIPTION_BYTES: usize = 1024;

/// The operation batch errors name.
const OP: &str = "batch";

/// A callback job, encoded once the batch's queue is known.
type Callback = Box<dyn FnOnce(&Client, &str) -> Result<Vec<u8>, Error> + Send>;

/// Configures a new batch; see [`Client::batch`].
#[must_use = "a batch builder does nothing until create() or enqueue()"]
pub struct BatchBuilder<'c> {
    client: &'c Client,
    queue: Option<String>,
    description: String,
    retention: Duration,
    open_timeout: Duration,
    callbacks: Vec<(&'static str, Callback)>,
    parent: Option<(String, Uuid)>,
}

impl Client {
    /// Starts a batch: jobs tracked as one, with `on_success`,
    /// `on_complete` and `on_death` callbacks.
    ///
    /// ```no_run
    /// # use jobqueue_core::{Client, Job, JobContext, JobError};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize)] struct Row { line: u32 }
    /// # impl Job for Row { const NAME: &'static str = "row";
    /// #   async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) } }
    /// # #[derive(Serialize, Deserialize)] struct Report;
    /// # impl Job for Report { const NAME: &'static str = "report";
    /// #   async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) } }
    /// # async fn demo(client: Client) -> Result<(), jobqueue_core::Error> {
    /// let batch = client
    ///     .batch()
    ///     .description("import of customers.csv")
    ///     .on_complete(Report)
    ///     .enqueue((1..=3).map(|line| Row { line }))
    ///     .await?;
    /// println!("batch {}", batch.id());
    /// # Ok(()) }
    /// ```
    pub fn batch(&self) -> BatchBuilder<'_> {
        BatchBuilder {
            client: self,
            queue: None,
            description: String::new(),
            retention: DEFAULT_BATCH_RETENTION,
            open_timeout: DEFAULT_BATCH_OPEN_TIMEOUT,
            callbacks: Vec::new(),
            parent: None,
        }
    }

    /// A handle on an existing batch (`id` on its home `queue`), for
    /// example the batch of a running job ([`JobContext::batch`](crate::JobContext::batch)),
    /// to add jobs to it while it is open.
    pub async fn batch_ref(&self, queue: &str, id: Uuid) -> Result<Batch, Error> {
        Ok(Batch {
            client: self.clone(),
            queue: self.queue_keys(queue).await?,
            id,
        })
    }
}

impl BatchBuilder<'_> {
    /// The batch's home queue (its jobs and callbacks run there). Default:
    /// the first job type's queue with [`BatchBuilder::enqueue`], else
    /// `default`.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// Free text for operators (dashboard, CLI), at most
    /// [`MAX_BATCH_DESCRIPTION_BYTES`].
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// How long the batch's bookkeeping is kept once it finished
    /// (default [`DEFAULT_BATCH_RETENTION`]).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How long the batch lives while its producer holds it (after
    /// [`BatchBuilder::create`], before [`Batch::seal`]) counted from its
    /// creation or its last [`Batch::add`] (default
    /// [`DEFAULT_BATCH_OPEN_TIMEOUT`]). A producer that dies before sealing
    /// leaves a batch that is dropped after that long: its jobs still run,
    /// uncounted, and none of its callbacks fires. Sealing ends the timeout.
    /// A child batch ([`BatchBuilder::child_of`]) is cancelled instead (by
    /// the workers' reaper), so its parent counts it cancelled and can
    /// complete.
    pub fn open_timeout(mut self, open_timeout: Duration) -> Self {
        self.open_timeout = open_timeout;
        self
    }

    /// Makes this batch a child of the batch `parent_id` on `parent_queue`
    /// (see [`Batch::child`], the same from a handle): the parent counts
    /// the child as one job, pending until the child completes, then
    /// succeeded (every job of the child succeeded), dead (some died) or
    /// cancelled. The child may live on another queue. The parent must be
    /// open: held by its producer, or with a job still pending (a running
    /// job of the parent creating a child is pending), else creating the
    /// child fails with [`Error::BatchClosed`] and no child is left held.
    pub fn child_of(mut self, parent_queue: impl Into<String>, parent_id: Uuid) -> Self {
        self.parent = Some((parent_queue.into(), parent_id));
        self
    }

    /// Enqueued once when every job of the batch succeeded (possibly
    /// later than completion, after its dead jobs were retried and
    /// succeeded).
    pub fn on_success<J: StatefulJob>(self, job: J) -> Self {
        self.callback("success", job)
    }

    /// Enqueued once when every job of the batch finished (some may be dead).
    pub fn on_complete<J: StatefulJob>(self, job: J) -> Self {
        self.callback("complete", job)
    }

    /// Enqueued once, when the batch's first job dies.
    pub fn on_death<J: StatefulJob>(self, job: J) -> Self {
        self.callback("death", job)
    }

    fn callback<J: StatefulJob>(mut self, kind: &'static str, job: J) -> Self {
        self.callbacks.retain(|(known, _)| *known != kind);
        let encode: Callback = Box::new(move |client: &Client, queue: &str| {
            let options = JobOptions {
                queue: Some(queue.to_owned()),
                ..JobOptions::default()
            };
            Ok(client.prepare(&job, &options)?.record)
        });
        self.callbacks.push((kind, encode));
        self
    }

    /// Creates the batch, held open: add jobs with [`Batch::add`] (in
    /// chunks), then [`Batch::seal`] it — it cannot complete before.
    pub async fn create(self) -> Result<Batch, Error> {
        let queue = self
            .queue
            .clone()
            .unwrap_or_else(|| crate::job::DEFAULT_QUEUE.to_owned());
        self.create_on(queue).await
    }

    /// Creates the batch, adds `jobs` and seals it: the batch completes
    /// when they all ended. Returns the batch.
    ///
    /// Every job is encoded and checked first: a job that cannot be
    /// (encode error, [`Error::PayloadTooLarge`]) fails the call before
    /// the batch exists. When adding a later chunk or sealing fails (a
    /// Redis error), the batch is cancelled (best effort, logged with its
    /// id): the jobs of earlier chunks still waiting go to the cancelled
    /// set, none of its callbacks fires, and it is never left held open.
    pub async fn enqueue<J, I>(self, jobs: I) -> Result<Batch, Error>
    where
        J: StatefulJob,
        I: IntoIterator<Item = J>,
    {
        let queue = self.queue.clone().unwrap_or_else(|| J::QUEUE.to_owned());
        let id = Uuid::now_v7();
        let options = JobOptions {
            queue: Some(queue.clone()),
            ..JobOptions::default()
        };
        let prepared = jobs
            .into_iter()
            .map(|job| self.client.prepare_in(&job, &options, Some(id)))
            .collect::<Result<Vec<_>, _>>()?;
        let batch = self.create_with_id(queue, id).await?;
        let filled = match batch.add_prepared_records(prepared).await {
            Ok(_) => batch.seal().await,
            Err(err) => Err(err),
        };
        match filled {
            Ok(()) => Ok(batch),
            Err(err) => Err(batch.cancel_after_failed_enqueue(err).await),
        }
    }

    async fn create_on(self, queue: String) -> Result<Batch, Error> {
        self.create_with_id(queue, Uuid::now_v7()).await
    }

    async fn create_with_id(self, queue: String, id: Uuid) -> Result<Batch, Error> {
        if self.description.len() > MAX_BATCH_DESCRIPTION_BYTES {
            return Err(Error::invalid(
                OP,
                format!("description is longer than {MAX_BATCH_DESCRIPTION_BYTES} bytes"),
            ));
        }
        if self.retention.is_zero() || self.open_timeout.as_millis() == 0 {
            return Err(Error::invalid(
                OP,
                "retention and open timeout must be at least 1 ms",
            ));
        }
        let keys = self.client.queue_keys(&queue).await?;
        let mut callbacks = Vec::with_capacity(self.callbacks.len());
        for (kind, encode) in self.callbacks {
            callbacks.push((kind, encode(self.client, &queue)?));
        }
        let parent_keys = match &self.parent {
            Some((parent_queue, _)) => Some(self.client.queue_keys(parent_queue).await?),
            None => None,
        };
        let open = BatchOpen {
            id,
            description: &self.description,
            retention_ms: u64::try_from(self.retention.as_millis()).unwrap_or(u64::MAX),
            open_timeout_ms: u64::try_from(self.open_timeout.as_millis()).unwrap_or(u64::MAX),
            callbacks: &callbacks,
            parent: self
                .parent
                .as_ref()
                .map(|(queue, id)| (queue.as_str(), *id)),
        };
        if !self.client.store().batch_open(&keys, &open).await? {
            return Err(Error::protocol(OP, format!("fresh batch id {id} is taken")));
        }
        let batch = Batch {
            client: self.client.clone(),
            queue: keys,
            id,
        };
        if let (Some(parent_keys), Some((_, parent_id))) = (parent_keys, &self.parent) {
            // Created first, linked second: a producer that dies between
            // the two leaves a held child its parent never counted (it is
            // cancelled after its open timeout and tells nobody who waits).
            let linked = self
                .client
                .store()
                .batch_link_child(&parent_keys, *parent_id, batch.queue(), id)
                .await;
            if let Err(err) = linked {
                return Err(batch.cancel_after_failed_enqueue(err).await);
            }
        }
        Ok(batch)
    }
}

/// A batch on its home queue: add jobs while it is open, seal it.
#[derive(Clone)]
pub struct Batch {
    client: Client,
    queue: Arc<QueueKeys>,
    id: Uuid,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("id", &self.id)
            .field("queue", &self.queue.name())
            .finish()
    }
}

impl Batch {
    /// The batch id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The batch's home queue.
    pub fn queue(&self) -> &str {
        self.queue.name()
    }

    /// Starts a child batch of this one ([`BatchBuilder::child_of`]): it
    /// counts here as one job until it completes. From a running job of
    /// this batch: `client.batch_ref(ctx.queue(), id).await?.child()`
    /// with the id [`JobContext::batch`](crate::JobContext::batch) gives.
    pub fn child(&self) -> BatchBuilder<'_> {
        self.client
            .batch()
            .child_of(self.queue.name().to_owned(), self.id)
    }

    /// Adds jobs (with their type's defaults, on the batch's queue); they
    /// become ready and are counted in the batch in one step per chunk of
    /// 1000. Allowed while the batch is held (before [`Batch::seal`]) or
    /// from a running job of the batch. Returns the job ids. Fails with
    /// [`Error::BatchClosed`] once the batch completed or was cancelled.
    pub async fn add<J, I>(&self, jobs: I) -> Result<Vec<Uuid>, Error>
    where
        J: StatefulJob,
        I: IntoIterator<Item = J>,
    {
        let options = JobOptions {
            queue: Some(self.queue.name().to_owned()),
            ..JobOptions::default()
        };
        let prepared = jobs
            .into_iter()
            .map(|job| self.client.prepare_in(&job, &options, Some(self.id)))
            .collect::<Result<Vec<_>, _>>()?;
        self.add_prepared_records(prepared).await
    }

    /// Adds jobs of any types with their own options (see
    /// [`JobBuilder::options`](crate::JobBuilder::options)); the options
    /// must leave them plain: run now, on the batch's queue.
    pub async fn add_with<J, I>(&self, jobs: I) -> Result<Vec<Uuid>, Error>
    where
        J: StatefulJob,
        I: IntoIterator<Item = (J, JobOptions)>,
    {
        let prepared = jobs
            .into_iter()
            .map(|(job, mut options)| {
                check_batch_options(&options, self.queue.name())?;
                options.queue = Some(self.queue.name().to_owned());
                self.client.prepare_in(&job, &options, Some(self.id))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.add_prepared_records(prepared).await
    }

    async fn add_prepared_records(&self, prepared: Vec<PreparedJob>) -> Result<Vec<Uuid>, Error> {
        for job in &prepared {
            if job.queue != self.queue.name() || job.destination != Destination::Ready {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "job {} of a batch must run now on the batch's queue '{}' without \
                         priority or flow key",
                        job.id,
                        self.queue.name()
                    ),
                ));
            }
        }
        let ids: Vec<Uuid> = prepared.iter().map(|job| job.id).collect();
        let records: Vec<Vec<u8>> = prepared.into_iter().map(|job| job.record).collect();
        for chunk in records.chunks(MAX_RECORDS_PER_CALL) {
            self.client
                .store()
                .batch_add(&self.queue, self.id, chunk)
                .await
                .map_err(|err| self.client.write_error(err))?;
        }
        Ok(ids)
    }

    /// After [`BatchBuilder::enqueue`] failed part-way: cancels the batch
    /// so it is not left held open, and returns the original error.
    async fn cancel_after_failed_enqueue(&self, err: Error) -> Error {
        match self.client.store().batch_cancel(&self.queue, self.id).await {
            Ok(cancelled) => tracing::warn!(
                batch = %self.id, queue = self.queue.name(), cancelled, error = %err,
                "batch enqueue failed part-way: batch cancelled"
            ),
            Err(cancel_err) => tracing::error!(
                batch = %self.id, queue = self.queue.name(), error = %err, %cancel_err,
                "batch enqueue failed part-way and the batch could not be cancelled: \
                 cancel it (jobqueue batch <id> --cancel)"
            ),
        }
        err
    }

    /// Releases the producer's hold: the batch completes once every job
    /// ended (at once, if they all did). Sealing twice changes nothing.
    pub async fn seal(&self) -> Result<(), Error> {
        self.client.store().batch_seal(&self.queue, self.id).await?;
        Ok(())
    }
}

/// Refuses options a batch job cannot have (it is counted by the scripts
/// that end plain, immediate jobs of the batch's queue).
fn check_batch_options(options: &JobOptions, queue: &str) -> Result<(), Error> {
    let refused = if options.queue.as_deref().is_some_and(|q| q != queue) {
        Some("another queue (a batch's jobs run on its queue)")
    } else if !matches!(options.run_at, RunAt::Now) {
        Some("a delay or run_at")
    } else if options.priority != 0 {
        Some("a priority")
    } else if options.unique.is_some() {
        Some("uniqueness")
    } else if options.flow_key.is_some() {
        Some("a flow key")
    } else if options.expires.is_some() {
        Some("an expiry")
    } else if options.dependents || !options.after.is_empty() {
        Some("parents or dependents")
    } else if options.id.is_some() {
        Some("a given id")
    } else {
        None
    };
    match refused {
        Some(what) => Err(Error::invalid(
            OP,
            format!("a job of a batch cannot have {what}"),
        )),
        None => Ok(()),
    }
}
