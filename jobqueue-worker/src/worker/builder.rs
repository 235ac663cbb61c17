//! [`Worker`] and [`WorkerBuilder`]: what a worker runs and how — its job
//! types, queues, settings, cron entries and middleware. Starting it is in
//! `start.rs`.

use std::sync::Arc;
use std::time::Duration;

use jobqueue_core::cron::CronEntry;
use jobqueue_core::store::DeadLimits;
use jobqueue_core::{Client, ClientConfig, Job};

use crate::config::{Prefetch, QueueOrder, WorkerConfig};
use crate::middleware::Middleware;
use crate::state::registry::Registry;

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
        WorkerBuilder::new(Some(client), None)
    }

    /// Starts building a worker that connects to `redis_url` when run.
    pub fn builder_from_url(redis_url: impl Into<String>) -> WorkerBuilder {
        Self::builder_with_config(ClientConfig::new(redis_url))
    }

    /// Starts building a worker that connects with `config` when run.
    pub fn builder_with_config(config: ClientConfig) -> WorkerBuilder {
        WorkerBuilder::new(None, Some(config))
    }
}

/// Configures and starts a worker. Cloning it clones the setup (job
/// types, settings, middleware), to start several workers alike.
#[must_use = "a WorkerBuilder does nothing until .run_until() is awaited"]
#[derive(Clone)]
pub struct WorkerBuilder {
    /// A connected client, or the settings to connect with at start.
    pub(super) client: Option<Client>,
    pub(super) client_config: Option<ClientConfig>,
    pub(super) config: WorkerConfig,
    pub(super) registry: Registry,
    pub(super) middleware: Vec<Arc<dyn Middleware>>,
    /// Registered cron entries, or why one is invalid (reported at start).
    pub(super) cron: Vec<Result<CronEntry, String>>,
    pub(super) health_addr: Option<std::net::SocketAddr>,
}

impl WorkerBuilder {
    /// A builder with the default settings and nothing registered.
    fn new(client: Option<Client>, client_config: Option<ClientConfig>) -> Self {
        Self {
            client,
            client_config,
            config: WorkerConfig::default(),
            registry: Registry::default(),
            middleware: Vec::new(),
            cron: Vec::new(),
            health_addr: None,
        }
    }
}

impl WorkerBuilder {
    /// Serves `GET /livez` and `GET /readyz` on `addr` (feature `health`;
    /// port 0 picks a free port, see
    /// [`RunningWorker::health_addr`](crate::RunningWorker::health_addr)). For
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

    /// How soon a queue held back by its running limit is asked again when
    /// no freed slot woke the worker first (default 50 ms; a job ending in
    /// any worker wakes the waiting ones at once, so this is only the
    /// fallback for a lost wake-up).
    pub fn limit_recheck_interval(mut self, interval: Duration) -> Self {
        self.config.limit_recheck_interval = interval;
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
}
