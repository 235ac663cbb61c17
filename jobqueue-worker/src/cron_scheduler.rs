//! [`Scheduler`]: a process (or task) that only enqueues cron ticks, for
//! deployments that keep scheduling apart from the workers. Any number may
//! run beside any number of workers registering the same entries: each
//! tick is still enqueued once. Workers serving the queues run the jobs
//! and promote them on time.

use std::future::Future;
use std::sync::Arc;

use jobqueue_core::cron::CronEntry;
use jobqueue_core::{Client, StatefulJob};
use tokio_util::sync::CancellationToken;

use crate::error::WorkerError;
use crate::loops::cron_ticks;

/// Enqueues cron ticks without running jobs. Build with [`Scheduler::builder`].
///
/// ```no_run
/// # use jobqueue_core::{Client, Job, JobContext, JobError};
/// # use jobqueue_worker::{Scheduler, shutdown_signal};
/// # #[derive(serde::Serialize, serde::Deserialize)] struct Nightly;
/// # impl Job for Nightly {
/// #     const NAME: &'static str = "nightly";
/// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
/// # }
/// # async fn demo(client: Client) -> Result<(), Box<dyn std::error::Error>> {
/// Scheduler::builder(client)
///     .cron("0 0 3 * * *", Nightly)
///     .run_until(shutdown_signal())
///     .await?;
/// # Ok(()) }
/// ```
pub struct Scheduler;

impl Scheduler {
    /// Starts building a scheduler on `client`'s connection and prefix.
    pub fn builder(client: Client) -> SchedulerBuilder {
        SchedulerBuilder {
            client,
            entries: Vec::new(),
        }
    }
}

/// Configures a [`Scheduler`].
#[must_use = "a SchedulerBuilder does nothing until .start() or .run_until() is awaited"]
pub struct SchedulerBuilder {
    client: Client,
    entries: Vec<Result<CronEntry, String>>,
}

impl SchedulerBuilder {
    /// Enqueues `job` on `expression`, as the entry named after the job
    /// type (see `WorkerBuilder::cron`).
    pub fn cron<J: StatefulJob>(mut self, expression: &str, job: J) -> Self {
        self.entries
            .push(CronEntry::new(J::NAME, expression, &job).map_err(|e| e.to_string()));
        self
    }

    /// Makes passes over `entry`.
    pub fn cron_entry(mut self, entry: CronEntry) -> Self {
        self.entries.push(Ok(entry));
        self
    }

    /// Registers the entries and starts making passes.
    pub async fn start(self) -> Result<RunningScheduler, WorkerError> {
        let entries = cron_ticks::validate(self.entries)?;
        if entries.is_empty() {
            return Err(WorkerError::Config(
                "a scheduler needs at least one cron entry".into(),
            ));
        }
        let store = self.client.store().clone();
        cron_ticks::register(&store, &entries).await?;
        let stop = CancellationToken::new();
        let task = tokio::spawn(cron_ticks::run(store, Arc::from(entries), stop.clone()));
        Ok(RunningScheduler { stop, task })
    }

    /// Runs until `shutdown` completes.
    pub async fn run_until<F: Future<Output = ()>>(self, shutdown: F) -> Result<(), WorkerError> {
        let running = self.start().await?;
        shutdown.await;
        running.shutdown().await;
        Ok(())
    }
}

/// A started [`Scheduler`].
pub struct RunningScheduler {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl RunningScheduler {
    /// Stops making passes (ticks already enqueued stay enqueued).
    pub async fn shutdown(self) {
        self.stop.cancel();
        if let Err(err) = self.task.await {
            tracing::warn!(error = %err, "the cron task ended abnormally");
        }
    }
}
