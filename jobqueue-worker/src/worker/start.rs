//! Starting a worker: check the settings, connect, check the data layout,
//! build the state its tasks share, make the first heartbeat, then spawn
//! the tasks — housekeeping loops (heartbeat, reaper, promoter, cron) on
//! the housekeeping thread, the rest on the caller's runtime.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::Utc;
use jobqueue_core::cron::CronEntry;
use jobqueue_core::store::Store;
use jobqueue_core::store::schema::Migrator;
use jobqueue_core::{Client, ClientConfig};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::QueueOrder;
use crate::error::WorkerError;
use crate::inline::InlineWorker;
use crate::loops::housekeeping::Housekeeping;
use crate::loops::{
    cron_ticks, event_subscriber, fetcher, heartbeat, outcome_writer, promoter, ready_watcher,
    reaper,
};
use crate::state::flow_limits::FlowLimits;
use crate::state::held_jobs::HeldJobs;
use crate::state::identity;
use crate::state::queue::{QueueEmptiness, QueueRuntime, ReconcileClock};
use crate::state::running_jobs::RunningJobs;
use crate::state::shared::Shared;
use crate::worker::builder::WorkerBuilder;
use crate::worker::running::RunningWorker;
use crate::worker::shutdown::{WorkerReport, WorkerTasks};

impl<S> WorkerBuilder<S> {
    /// Runs until `shutdown` completes, then shuts down gracefully: stops
    /// fetching, lets running jobs finish within the grace period, hands
    /// the rest back to their queues at once, and returns.
    pub async fn run_until<F>(self, shutdown: F) -> Result<WorkerReport, WorkerError>
    where
        F: Future<Output = ()>,
    {
        let mut shutdown = std::pin::pin!(shutdown);
        // Poll the shutdown future once before starting: that installs
        // signal handlers such as `shutdown_signal`'s, so a SIGTERM that
        // arrives during start-up stops the worker gracefully right after
        // it started instead of killing the process.
        let stop_at_once = futures_util::FutureExt::now_or_never(&mut shutdown).is_some();
        let running = self.start().await?;
        if !stop_at_once {
            shutdown.await;
        }
        Ok(running.shutdown().await)
    }

    /// Starts the worker and returns a handle to stop it.
    pub async fn start(mut self) -> Result<RunningWorker, WorkerError> {
        let cron_entries = cron_ticks::validate(std::mem::take(&mut self.cron))?;
        let health_addr = self.health_addr;
        let (shared, housekeeping) = self.into_shared(true, &cron_entries).await?;
        let Some(housekeeping) = housekeeping else {
            return Err(WorkerError::Config(
                "the housekeeping thread did not start".into(),
            ));
        };
        match start_tasks(shared, housekeeping, cron_entries, health_addr).await {
            Ok(running) => Ok(running),
            Err((housekeeping, err)) => {
                housekeeping.stop();
                Err(err)
            }
        }
    }

    /// Runs ready jobs one at a time in the calling task, on demand: for
    /// tests (see [`InlineWorker`]). Nothing runs in the background.
    pub async fn inline(self) -> Result<InlineWorker, WorkerError> {
        let cron: Vec<CronEntry> = self.cron.iter().filter_map(|e| e.clone().ok()).collect();
        InlineWorker::new(self.into_shared(false, &cron).await?.0).await
    }

    /// Validates the settings, connects, checks the data layout and builds
    /// the state every task of the worker shares; with `housekeeping`, also
    /// starts the housekeeping thread with its own connection (the inline
    /// worker runs nothing in the background and uses one connection).
    async fn into_shared(
        mut self,
        housekeeping: bool,
        cron: &[CronEntry],
    ) -> Result<(Arc<Shared>, Option<Housekeeping>), WorkerError> {
        if self.registry.is_empty() {
            return Err(WorkerError::Config(
                "no job types registered: call .register::<YourJob>()".into(),
            ));
        }
        self.config.queues = super::served_queues::resolve(
            std::mem::replace(&mut self.config.queues, QueueOrder::Registered),
            &self.registry,
            cron,
            self.allow_unserved_queues,
        )?;
        self.config.validate().map_err(WorkerError::Config)?;
        let client = match (self.client, self.client_config) {
            (Some(client), _) => client,
            (None, Some(config)) => Client::with_config(config).await?,
            (None, None) => Client::with_config(ClientConfig::default()).await?,
        };
        let store = client.store().clone();
        Migrator::new(store.clone())
            .ensure_compatible(self.config.migrate_on_start)
            .await?;

        let worker_id: Arc<str> = Arc::from(identity::new_worker_id());
        let names = self.config.queues.names();
        let queues = queue_states(&store, &names, &worker_id, self.config.lease).await?;
        let status_writer = Arc::new(jobqueue_core::client::status::StatusWriter::new(
            store.clone(),
            self.config.status_ttl,
        ));
        let (housekeeping, control) = if housekeeping {
            let (housekeeping, control) = Housekeeping::start(client.config().clone()).await?;
            (Some(housekeeping), control)
        } else {
            (None, store.clone())
        };
        let shared = Arc::new(Shared {
            status_writer,
            control,
            blocking_warned: std::sync::Mutex::default(),
            store,
            redis_url: client.config().redis_url().to_owned(),
            credentials: client.config().connection_settings().credentials,
            connection_settings: client.config().connection_settings(),
            payload_codec: client.config().codec().clone(),
            slots: Arc::new(Semaphore::new(self.config.concurrency)),
            config: self.config,
            worker_id,
            host: identity::host_name(),
            held: HeldJobs::new(queues.len()),
            queues,
            registry: self.registry,
            job_logs: self.job_logs,
            state: self.state,
            middleware: self.middleware,
            wake_fetcher: Notify::new(),
            redis_recovered: Notify::new(),
            wake_promoter: Notify::new(),
            stop_fetching: CancellationToken::new(),
            cancel_jobs: CancellationToken::new(),
            abort_jobs: CancellationToken::new(),
            stop_background: CancellationToken::new(),
            started_at: Utc::now(),
            job_time_us: std::sync::atomic::AtomicU64::new(u64::MAX),
            last_beat_ok_ms: std::sync::atomic::AtomicI64::new(0),
            running: RunningJobs::default(),
        });
        Ok((shared, housekeeping))
    }
}

/// Registers the queues named `names` and builds this worker's state for
/// each: its keys, its active hash, and nothing yet known about it (the
/// first routine reconciliation one `lease` from now).
async fn queue_states(
    store: &Store,
    names: &[String],
    worker_id: &str,
    lease: Duration,
) -> Result<Vec<QueueRuntime>, jobqueue_core::Error> {
    store.register_queues(names).await?;
    names
        .iter()
        .map(|name| {
            let keys = store.queue_keys(name)?;
            Ok(QueueRuntime {
                name: Arc::from(name.as_str()),
                active_key: keys.active(worker_id),
                keys: Arc::new(keys),
                emptiness: QueueEmptiness::default(),
                watch_refused: AtomicBool::new(false),
                limits: FlowLimits::default(),
                fetch_uncertain: AtomicBool::new(false),
                next_reconcile: ReconcileClock::new(lease),
            })
        })
        .collect()
}

/// Starts the worker's tasks: the first heartbeat, then housekeeping
/// (heartbeat, reaper, promoter, cron) on the housekeeping thread, the
/// rest on the caller's runtime. On failure the housekeeping thread is
/// handed back to be stopped.
async fn start_tasks(
    shared: Arc<Shared>,
    housekeeping: Housekeeping,
    cron_entries: Vec<CronEntry>,
    health_addr: Option<std::net::SocketAddr>,
) -> Result<RunningWorker, (Housekeeping, WorkerError)> {
    if let Err(err) = first_beat(&shared, &cron_entries).await {
        return Err((housekeeping, err));
    }
    tracing::info!(
        worker = %shared.worker_id,
        queues = ?shared.config.queues.names(),
        concurrency = shared.config.concurrency,
        "worker started"
    );

    let background = TaskTracker::new();
    spawn_background(&shared, &background, &housekeeping, cron_entries);
    let health_addr = match crate::health::start(health_addr, &background, &shared).await {
        Ok(addr) => addr,
        Err(err) => {
            shared.stop_fetching.cancel();
            shared.stop_background.cancel();
            return Err((housekeeping, err));
        }
    };
    background.close();

    let (finished_tx, finished_rx) = mpsc::unbounded_channel();
    let finish_writing = CancellationToken::new();
    let outcome_writer = tokio::spawn(outcome_writer::run(
        shared.clone(),
        finished_rx,
        finish_writing.clone(),
    ));
    let jobs = TaskTracker::new();
    let fetcher = tokio::spawn(fetcher::run(shared.clone(), finished_tx, jobs.clone()));
    let promoter = housekeeping.handle().spawn(promoter::run(shared.clone()));

    Ok(RunningWorker::new(
        health_addr,
        housekeeping,
        WorkerTasks {
            shared,
            background,
            jobs,
            fetcher,
            promoter,
            outcome_writer,
            finish_writing,
        },
    ))
}

/// Before any task starts: takes the leases and publishes the worker's
/// info, loads every queue's flow limits and stores the cron entries.
async fn first_beat(shared: &Shared, cron_entries: &[CronEntry]) -> Result<(), WorkerError> {
    heartbeat::beat(shared, true).await?;
    shared.beat_succeeded();
    crate::state::limits_loader::reload_all(shared).await?;
    cron_ticks::register(&shared.control, cron_entries).await
}

/// Spawns the loops that run until the background stop token (or, for
/// cron, the fetch stop token) fires: lease renewal, the reaper and cron on
/// the housekeeping thread, the event subscriber on the caller's runtime.
fn spawn_background(
    shared: &Arc<Shared>,
    background: &TaskTracker,
    housekeeping: &Housekeeping,
    cron_entries: Vec<CronEntry>,
) {
    let control = housekeeping.handle();
    if !cron_entries.is_empty() {
        background.spawn_on(
            cron_ticks::run(
                shared.control.clone(),
                Arc::from(cron_entries),
                shared.stop_fetching.clone(),
            ),
            control,
        );
    }
    background.spawn_on(heartbeat::run(shared.clone()), control);
    background.spawn_on(reaper::run(shared.clone()), control);
    background.spawn(event_subscriber::run(shared.clone()));
    for index in ready_watcher::watched(shared) {
        background.spawn(ready_watcher::run(shared.clone(), index));
    }
}
