//! [`Worker`] and its builder: start-up, the running tasks, and graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::Utc;
use jobqueue_core::cron::CronEntry;
use jobqueue_core::store::DeadLimits;
use jobqueue_core::store::schema::Migrator;
use jobqueue_core::{Client, ClientConfig, Job};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Prefetch, QueueOrder, WorkerConfig};
use crate::error::WorkerError;
use crate::held::HeldJobs;
use crate::housekeeping::Housekeeping;
use crate::inline::InlineWorker;
use crate::middleware::Middleware;
use crate::registry::Registry;
use crate::runtime::{QueueEmptiness, QueueRuntime, Shared};
use crate::{completion, cron, events, fetcher, heartbeat, identity, reaper, scheduler};

/// How long shutdown waits for outcomes to be written and jobs handed back.
const SHUTDOWN_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long cancelled jobs get to stop cooperatively after the grace period.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// A worker process's runtime. Build one with [`Worker::builder`].
///
/// ```no_run
/// use jobqueue_core::{Client, Job, JobContext, JobError};
/// use jobqueue_worker::{Worker, shutdown_signal};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct SendWelcomeEmail { user_id: u64 }
///
/// impl Job for SendWelcomeEmail {
///     const NAME: &'static str = "send_welcome_email";
///     async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> { Ok(()) }
/// }
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::connect("redis://127.0.0.1:6379").await?;
/// Worker::builder(client)
///     .register::<SendWelcomeEmail>()
///     .queues(["critical", "default", "mail"])
///     .concurrency(50)
///     .run_until(shutdown_signal())
///     .await?;
/// # Ok(()) }
/// ```
pub struct Worker;

impl Worker {
    /// Starts building a worker that uses `client`'s connection and prefix.
    pub fn builder(client: Client) -> WorkerBuilder {
        WorkerBuilder {
            client: Some(client),
            client_config: None,
            config: WorkerConfig::default(),
            registry: Registry::default(),
            middleware: Vec::new(),
            cron: Vec::new(),
            health_addr: None,
        }
    }

    /// Starts building a worker that connects to `redis_url` when run.
    pub fn builder_from_url(redis_url: impl Into<String>) -> WorkerBuilder {
        Self::builder_with_config(ClientConfig::new(redis_url))
    }

    /// Starts building a worker that connects with `config` when run.
    pub fn builder_with_config(config: ClientConfig) -> WorkerBuilder {
        WorkerBuilder {
            client: None,
            client_config: Some(config),
            config: WorkerConfig::default(),
            registry: Registry::default(),
            middleware: Vec::new(),
            cron: Vec::new(),
            health_addr: None,
        }
    }
}

/// Configures and starts a worker. Cloning it clones the setup (job
/// types, settings, middleware), to start several workers alike.
#[must_use = "a WorkerBuilder does nothing until .run_until() is awaited"]
#[derive(Clone)]
pub struct WorkerBuilder {
    client: Option<Client>,
    client_config: Option<ClientConfig>,
    config: WorkerConfig,
    registry: Registry,
    middleware: Vec<Arc<dyn Middleware>>,
    /// Registered cron entries, or why one is invalid (reported at start).
    cron: Vec<Result<CronEntry, String>>,
    health_addr: Option<std::net::SocketAddr>,
}

/// What a worker did, returned when it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerReport {
    /// The worker's identity.
    pub worker_id: String,
    /// Jobs that were still running when the grace period ended and were
    /// handed back to their queue.
    pub handed_back: u64,
}

impl WorkerBuilder {
    /// Serves `GET /livez` and `GET /readyz` on `addr` (feature `health`;
    /// port 0 picks a free port, see [`RunningWorker::health_addr`]). For
    /// Kubernetes probes and load balancers; see docs/deployment.md.
    #[cfg(feature = "health")]
    pub fn health_endpoint(mut self, addr: std::net::SocketAddr) -> Self {
        self.health_addr = Some(addr);
        self
    }

    /// Handles jobs of type `J`.
    pub fn register<J: Job>(mut self) -> Self {
        self.registry.register::<J>();
        self
    }

    /// Fetches from these queues in strict order: a later queue only when
    /// every earlier one is empty.
    pub fn queues<I, S>(mut self, queues: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.queues = QueueOrder::Strict(queues.into_iter().map(Into::into).collect());
        self
    }

    /// Fetches from these queues in weighted random order: a queue with
    /// weight 6 is tried first six times as often as one with weight 1.
    pub fn weighted_queues<I, S>(mut self, queues: I) -> Self
    where
        I: IntoIterator<Item = (S, u32)>,
        S: Into<String>,
    {
        self.config.queues = QueueOrder::Weighted(
            queues
                .into_iter()
                .map(|(name, weight)| (name.into(), weight))
                .collect(),
        );
        self
    }

    /// Most jobs run at once (default 10).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.config.concurrency = concurrency;
        self
    }

    /// Lease length (default 30 s); heartbeat and reap intervals follow at
    /// a sixth of it unless set after this call.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.config.lease = lease;
        self.config.heartbeat_interval = lease / 6;
        self.config.reap_interval = lease / 6;
        self
    }

    /// Lease renewal period (default lease / 6).
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.config.heartbeat_interval = interval;
        self
    }

    /// How often lapsed leases are looked for (default lease / 6).
    pub fn reap_interval(mut self, interval: Duration) -> Self {
        self.config.reap_interval = interval;
        self
    }

    /// Time in-flight jobs get to finish after a stop signal (default 25 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace = grace;
        self
    }

    /// Most jobs leased per fetch call (default 100).
    pub fn max_fetch_batch(mut self, batch: usize) -> Self {
        self.config.max_fetch_batch = batch;
        self
    }

    /// Extra jobs held beyond free slots (default [`Prefetch::Auto`]).
    pub fn prefetch(mut self, prefetch: Prefetch) -> Self {
        self.config.prefetch = prefetch;
        self
    }

    /// How often queues found empty are asked again in case a wake-up was
    /// lost, whether the worker is idle or busy (default 2 s).
    pub fn idle_poll_interval(mut self, interval: Duration) -> Self {
        self.config.idle_poll_interval = interval;
        self
    }

    /// Dead set bounds (default 10,000 jobs and 180 days per queue).
    pub fn dead_limits(mut self, limits: DeadLimits) -> Self {
        self.config.dead_limits = limits;
        self
    }

    /// Applies pending schema migrations at start-up instead of refusing to start.
    pub fn migrate_on_start(mut self, migrate: bool) -> Self {
        self.config.migrate_on_start = migrate;
        self
    }

    /// How long a job's status (progress, result) is kept after its last
    /// update (default 5 minutes, at most 30 days).
    pub fn status_ttl(mut self, ttl: Duration) -> Self {
        self.config.status_ttl = ttl;
        self
    }

    /// Replaces every setting at once.
    pub fn config(mut self, config: WorkerConfig) -> Self {
        self.config = config;
        self
    }

    /// Enqueues `job` on the cron schedule `expression` (seconds field
    /// optional, UTC), as the entry named after the job type. Any number
    /// of workers may register the same entry: each tick is enqueued once.
    /// See [`WorkerBuilder::cron_entry`] for time zones, queues and misfire
    /// policies; an invalid expression makes [`WorkerBuilder::start`] fail.
    ///
    /// ```no_run
    /// # use jobqueue_core::{Client, Job, JobContext, JobError};
    /// # use jobqueue_worker::Worker;
    /// # #[derive(serde::Serialize, serde::Deserialize)] struct PruneSessions;
    /// # impl Job for PruneSessions {
    /// #     const NAME: &'static str = "prune_sessions";
    /// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # async fn demo(client: Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let worker = Worker::builder(client)
    ///     .register::<PruneSessions>()
    ///     .cron("0 */5 * * * *", PruneSessions)
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn cron<J: Job>(mut self, expression: &str, job: J) -> Self {
        self.cron
            .push(CronEntry::new(J::NAME, expression, &job).map_err(|e| e.to_string()));
        self
    }

    /// Makes scheduler passes over `entry` (see [`CronEntry`]).
    pub fn cron_entry(mut self, entry: CronEntry) -> Self {
        self.cron.push(Ok(entry));
        self
    }

    /// Adds a middleware; the first added is the outermost.
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

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
        let cron_entries = cron::validate(std::mem::take(&mut self.cron))?;
        let health_addr = self.health_addr;
        let (shared, housekeeping) = self.into_shared(true).await?;
        let Some(housekeeping) = housekeeping else {
            return Err(WorkerError::Config(
                "the housekeeping thread did not start".into(),
            ));
        };
        match Self::start_tasks(shared, housekeeping, cron_entries, health_addr).await {
            Ok(running) => Ok(running),
            Err((housekeeping, err)) => {
                housekeeping.stop();
                Err(err)
            }
        }
    }

    /// Starts the worker's tasks: housekeeping (heartbeat, reaper,
    /// promoter, cron) on the housekeeping thread, the rest on the
    /// caller's runtime. On failure the housekeeping thread is handed back
    /// to be stopped.
    async fn start_tasks(
        shared: Arc<Shared>,
        housekeeping: Housekeeping,
        cron_entries: Vec<CronEntry>,
        health_addr: Option<std::net::SocketAddr>,
    ) -> Result<RunningWorker, (Housekeeping, WorkerError)> {
        let worker_id = shared.worker_id.clone();
        let names = shared.config.queues.names();
        let first_beat = async {
            heartbeat::beat(&shared, true).await?;
            shared.beat_succeeded();
            crate::flow_limits::reload_all(&shared).await?;
            cron::register(&shared.control, &cron_entries).await
        };
        if let Err(err) = first_beat.await {
            return Err((housekeeping, err));
        }
        tracing::info!(
            worker = %worker_id,
            queues = ?names,
            concurrency = shared.config.concurrency,
            "worker started"
        );

        let background = TaskTracker::new();
        let control = housekeeping.handle();
        if !cron_entries.is_empty() {
            background.spawn_on(
                cron::run(
                    shared.control.clone(),
                    Arc::from(cron_entries),
                    shared.stop_fetching.clone(),
                ),
                control,
            );
        }
        background.spawn_on(heartbeat::run(shared.clone()), control);
        background.spawn_on(reaper::run(shared.clone()), control);
        background.spawn(events::run(shared.clone()));
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
        let finish_completion = CancellationToken::new();
        let completion = tokio::spawn(completion::run(
            shared.clone(),
            finished_rx,
            finish_completion.clone(),
        ));
        let jobs = TaskTracker::new();
        let fetcher = tokio::spawn(fetcher::run(shared.clone(), finished_tx, jobs.clone()));
        let scheduler = control.spawn(scheduler::run(shared.clone()));

        Ok(RunningWorker {
            health_addr,
            housekeeping,
            tasks: WorkerTasks {
                shared,
                background,
                jobs,
                fetcher,
                scheduler,
                completion,
                finish_completion,
            },
        })
    }
}

impl WorkerBuilder {
    /// Runs ready jobs one at a time in the calling task, on demand: for
    /// tests (see [`InlineWorker`]). Nothing runs in the background.
    pub async fn inline(self) -> Result<InlineWorker, WorkerError> {
        InlineWorker::new(self.into_shared(false).await?.0).await
    }

    /// Validates the settings, connects, checks the data layout and builds
    /// the state every task of the worker shares; with `housekeeping`, also
    /// starts the housekeeping thread with its own connection (the inline
    /// worker runs nothing in the background and uses one connection).
    async fn into_shared(
        self,
        housekeeping: bool,
    ) -> Result<(Arc<Shared>, Option<Housekeeping>), WorkerError> {
        self.config.validate().map_err(WorkerError::Config)?;
        if self.registry.is_empty() {
            return Err(WorkerError::Config(
                "no job types registered: call .register::<YourJob>()".into(),
            ));
        }
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
        store.register_queues(&names).await?;
        let queues = names
            .iter()
            .map(|name| {
                let keys = store.queue_keys(name)?;
                Ok(QueueRuntime {
                    name: Arc::from(name.as_str()),
                    active_key: keys.active(&worker_id),
                    keys,
                    emptiness: QueueEmptiness::default(),
                    limits: crate::flow_limits::FlowLimits::default(),
                    fetch_uncertain: AtomicBool::new(false),
                    next_reconcile: crate::runtime::ReconcileClock::new(self.config.lease),
                })
            })
            .collect::<Result<Vec<_>, jobqueue_core::Error>>()?;

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
            slots: Arc::new(Semaphore::new(self.config.concurrency)),
            config: self.config,
            worker_id,
            host: identity::host_name(),
            held: HeldJobs::new(queues.len()),
            queues,
            registry: self.registry,
            middleware: self.middleware,
            wake_fetcher: Notify::new(),
            redis_recovered: Notify::new(),
            wake_scheduler: Notify::new(),
            stop_fetching: CancellationToken::new(),
            cancel_jobs: CancellationToken::new(),
            abort_jobs: CancellationToken::new(),
            stop_background: CancellationToken::new(),
            started_at: Utc::now(),
            job_time_us: std::sync::atomic::AtomicU64::new(u64::MAX),
            last_beat_ok_ms: std::sync::atomic::AtomicI64::new(0),
            running: crate::cancellation::RunningJobs::default(),
        });
        Ok((shared, housekeeping))
    }
}

/// A started worker; stop it with [`RunningWorker::shutdown`].
pub struct RunningWorker {
    health_addr: Option<std::net::SocketAddr>,
    housekeeping: Housekeeping,
    tasks: WorkerTasks,
}

/// The running parts the shutdown sequence stops, in order.
struct WorkerTasks {
    shared: Arc<Shared>,
    background: TaskTracker,
    jobs: TaskTracker,
    fetcher: tokio::task::JoinHandle<()>,
    scheduler: tokio::task::JoinHandle<()>,
    completion: tokio::task::JoinHandle<()>,
    /// Tells the completion task to write what has arrived and stop.
    finish_completion: CancellationToken,
}

impl RunningWorker {
    /// The worker's identity.
    pub fn worker_id(&self) -> &str {
        &self.tasks.shared.worker_id
    }

    /// Jobs running now.
    pub fn busy(&self) -> usize {
        self.tasks.shared.busy()
    }

    /// Where the health endpoint listens, when one was asked for.
    pub fn health_addr(&self) -> Option<std::net::SocketAddr> {
        self.health_addr
    }

    /// Stops gracefully; see [`WorkerBuilder::run_until`].
    ///
    /// The sequence runs on the worker's housekeeping thread, with its own
    /// timers and Redis connection: a job that blocks a thread of the
    /// application's runtime cannot stop it from handing the unfinished
    /// jobs back on time.
    pub async fn shutdown(self) -> WorkerReport {
        let worker_id = self.tasks.shared.worker_id.to_string();
        let report = self.housekeeping.run(self.tasks.shut_down()).await;
        self.housekeeping.stop();
        report.unwrap_or_else(|| {
            tracing::error!(worker = %worker_id, "the shutdown sequence was interrupted");
            WorkerReport {
                worker_id,
                handed_back: 0,
            }
        })
    }
}

impl WorkerTasks {
    async fn shut_down(self) -> WorkerReport {
        let shared = &self.shared;
        let grace = shared.config.shutdown_grace;
        tracing::info!(worker = %shared.worker_id, busy = shared.busy(), grace_ms = grace.as_millis() as u64, "shutting down: no new jobs; waiting for running jobs");
        shared.stop_fetching.cancel();
        let _ = self.fetcher.await;
        let _ = self.scheduler.await;
        if let Err(err) = heartbeat::publish_info(shared).await {
            tracing::debug!(error = %err, "could not mark the worker as stopping");
        }

        self.jobs.close();
        if tokio::time::timeout(grace, self.jobs.wait()).await.is_err() {
            tracing::warn!(
                running = shared.busy(),
                "grace period over: cancelling running jobs"
            );
            shared.cancel_jobs.cancel();
            if tokio::time::timeout(CANCEL_GRACE, self.jobs.wait())
                .await
                .is_err()
            {
                tracing::warn!(
                    running = shared.busy(),
                    "jobs did not stop when cancelled; dropping them and handing them back"
                );
                shared.abort_jobs.cancel();
                if tokio::time::timeout(CANCEL_GRACE, self.jobs.wait())
                    .await
                    .is_err()
                {
                    tracing::error!(
                        "a job is blocking its thread and cannot be stopped; handing it back \
                         (move blocking work to tokio::task::spawn_blocking)"
                    );
                }
            }
        }

        // Every finished job's outcome must be written before the rest is
        // handed back, or a finished job would be run again. A job still
        // blocking its thread keeps its sender: write what has arrived
        // instead of waiting for the channel to close.
        self.finish_completion.cancel();
        let mut completion = self.completion;
        if tokio::time::timeout(SHUTDOWN_WRITE_TIMEOUT, &mut completion)
            .await
            .is_err()
        {
            completion.abort();
            tracing::error!(
                "could not record every finished job before shutdown (Redis unreachable?); \
                 unrecorded jobs run again once this worker's lease lapses"
            );
        }

        let mut handed_back = 0;
        for queue in &shared.queues {
            let result = tokio::time::timeout(
                SHUTDOWN_WRITE_TIMEOUT,
                shared
                    .control
                    .handback(&queue.keys, &shared.worker_id, &[], true),
            )
            .await;
            match result {
                Ok(Ok(count)) => handed_back += count,
                Ok(Err(err)) => {
                    tracing::error!(queue = %queue.name, error = %err, "could not hand jobs back; they return when the lease lapses")
                }
                Err(_) => {
                    tracing::error!(queue = %queue.name, "handing jobs back timed out; they return when the lease lapses")
                }
            }
        }
        if handed_back > 0 {
            tracing::warn!(
                jobs = handed_back,
                "handed unfinished jobs back to their queues"
            );
        }

        shared.stop_background.cancel();
        self.background.wait().await;
        if let Err(err) = heartbeat::unpublish_info(shared).await {
            tracing::debug!(error = %err, "could not remove the worker's info");
        }
        tracing::info!(worker = %shared.worker_id, "worker stopped");
        WorkerReport {
            worker_id: shared.worker_id.to_string(),
            handed_back,
        }
    }
}
