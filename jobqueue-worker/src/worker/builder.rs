//! [`Worker`] and [`WorkerBuilder`]: what a worker runs and how — its job
//! types, queues, settings, cron entries and middleware. Starting it is in
//! `start.rs`.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use jobqueue_core::cron::CronEntry;
use jobqueue_core::store::DeadLimits;
use jobqueue_core::{Client, ClientConfig, ProvidedBy, StatefulJob};

use crate::config::{Prefetch, QueueOrder, WorkerConfig};
use crate::job_logs::JobLogs;
use crate::middleware::Middleware;
use crate::state::registry::{ErasedState, Registry};

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
///     .register::<SendWelcomeEmail>() // serves its queue, "default"
///     .concurrency(50)
///     .run_until(shutdown_signal())
///     .await?;
/// # Ok(()) }
/// ```
///
/// Jobs that need application state (a database pool, an HTTP client)
/// implement [`StatefulJob`] and get the state given once with
/// [`WorkerBuilder::state`]:
///
/// ```no_run
/// use jobqueue_core::{Client, JobContext, JobError, StatefulJob};
/// use jobqueue_worker::{Worker, shutdown_signal};
/// # #[derive(serde::Serialize, serde::Deserialize)] struct SendWelcomeEmail { email: String }
/// struct AppState { mail_from: String }
///
/// impl StatefulJob for SendWelcomeEmail {
///     type State = AppState;
///     const NAME: &'static str = "send_welcome_email";
///     async fn perform(&self, ctx: &JobContext<AppState>) -> Result<(), JobError> {
///         tracing::info!(from = %ctx.state().mail_from, to = %self.email, "sending");
///         Ok(())
///     }
/// }
///
/// # async fn demo(client: Client) -> Result<(), Box<dyn std::error::Error>> {
/// Worker::builder(client)
///     .state(AppState { mail_from: "hello@example.com".into() })
///     .register::<SendWelcomeEmail>()
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
/// types, settings, middleware; the state is shared), to start several
/// workers alike.
///
/// `S` is the application state its jobs receive ([`WorkerBuilder::state`]).
#[must_use = "a WorkerBuilder does nothing until .run_until() is awaited"]
pub struct WorkerBuilder<S = ()> {
    /// A connected client, or the settings to connect with at start.
    pub(super) client: Option<Client>,
    pub(super) client_config: Option<ClientConfig>,
    pub(super) config: WorkerConfig,
    pub(super) registry: Registry,
    pub(super) middleware: Vec<Arc<dyn Middleware>>,
    /// Registered cron entries, or why one is invalid (reported at start).
    pub(super) cron: Vec<Result<CronEntry, String>>,
    pub(super) health_addr: Option<std::net::SocketAddr>,
    /// Start even when a registered job type or cron entry has a queue
    /// the explicit queue list leaves out.
    pub(super) allow_unserved_queues: bool,
    /// The state jobs receive, an `Arc<S>` with its type erased.
    pub(super) state: ErasedState,
    pub(super) state_type: PhantomData<fn() -> S>,
    /// Per-job logs: `None` (the default) captures and writes nothing.
    pub(super) job_logs: Option<JobLogs>,
}

impl<S> Clone for WorkerBuilder<S> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            client_config: self.client_config.clone(),
            config: self.config.clone(),
            registry: self.registry.clone(),
            middleware: self.middleware.clone(),
            cron: self.cron.clone(),
            health_addr: self.health_addr,
            allow_unserved_queues: self.allow_unserved_queues,
            state: self.state.clone(),
            state_type: PhantomData,
            job_logs: self.job_logs.clone(),
        }
    }
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
            allow_unserved_queues: false,
            state: jobqueue_core::job::context::no_state(),
            state_type: PhantomData,
            job_logs: None,
        }
    }

    /// Gives the jobs application state (a database pool, an HTTP client,
    /// a mailer), reached in [`StatefulJob::perform`] with
    /// [`JobContext::state`](jobqueue_core::JobContext::state). Call it
    /// before registering the job types that take it: each registration is
    /// checked at compile time against `S`. Plain [`Job`](jobqueue_core::Job)s
    /// run beside them when `S` implements
    /// [`WorkerState`](jobqueue_core::WorkerState).
    ///
    /// A job whose state is another type does not compile:
    ///
    /// ```compile_fail
    /// # use jobqueue_core::{Client, JobContext, JobError, StatefulJob};
    /// # use jobqueue_worker::Worker;
    /// # struct AppState;
    /// # #[derive(serde::Serialize, serde::Deserialize)] struct SendWelcomeEmail;
    /// # impl StatefulJob for SendWelcomeEmail {
    /// #     type State = AppState;
    /// #     const NAME: &'static str = "send_welcome_email";
    /// #     async fn perform(&self, _: &JobContext<AppState>) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # fn demo(client: Client) {
    /// let _ = Worker::builder(client).state(42_u32).register::<SendWelcomeEmail>();
    /// # }
    /// ```
    ///
    /// nor does a plain job on a worker whose state is not marked
    /// [`WorkerState`](jobqueue_core::WorkerState):
    ///
    /// ```compile_fail
    /// # use jobqueue_core::{Client, Job, JobContext, JobError};
    /// # use jobqueue_worker::Worker;
    /// # struct AppState;
    /// # #[derive(serde::Serialize, serde::Deserialize)] struct Ping;
    /// # impl Job for Ping {
    /// #     const NAME: &'static str = "ping";
    /// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # fn demo(client: Client) {
    /// let _ = Worker::builder(client).state(AppState).register::<Ping>();
    /// # }
    /// ```
    pub fn state<S: Send + Sync + 'static>(self, state: S) -> WorkerBuilder<S> {
        WorkerBuilder {
            client: self.client,
            client_config: self.client_config,
            config: self.config,
            registry: self.registry,
            middleware: self.middleware,
            cron: self.cron,
            health_addr: self.health_addr,
            allow_unserved_queues: self.allow_unserved_queues,
            state: Arc::new(state),
            state_type: PhantomData,
            job_logs: self.job_logs,
        }
    }
}

impl<S> WorkerBuilder<S> {
    /// Serves `GET /livez` and `GET /readyz` on `addr` (feature `health`;
    /// port 0 picks a free port, see
    /// [`RunningWorker::health_addr`](crate::RunningWorker::health_addr)). For
    /// Kubernetes probes and load balancers; see docs/deployment.md.
    #[cfg(feature = "health")]
    pub fn health_endpoint(mut self, addr: std::net::SocketAddr) -> Self {
        self.health_addr = Some(addr);
        self
    }

    /// Handles jobs of type `J`: a [`Job`](jobqueue_core::Job), or a
    /// [`StatefulJob`] whose state is this worker's (see
    /// [`WorkerBuilder::state`]). Unless [`WorkerBuilder::queues`] says
    /// otherwise, the worker serves `J::QUEUE`.
    pub fn register<J>(mut self) -> Self
    where
        J: StatefulJob,
        J::State: ProvidedBy<S>,
    {
        self.registry.register::<J>();
        self
    }

    /// Fetches from these queues in strict order: a later queue only when
    /// every earlier one is empty.
    ///
    /// Without this call (or [`WorkerBuilder::weighted_queues`]) a worker
    /// serves the queues of its registered job types and cron entries,
    /// with equal weights. A list that leaves one of those queues out
    /// makes the start fail ([`WorkerError::UnservedJobType`](crate::WorkerError::UnservedJobType))
    /// unless [`WorkerBuilder::allow_unserved_queues`] is called.
    pub fn queues<I, Q>(mut self, queues: I) -> Self
    where
        I: IntoIterator<Item = Q>,
        Q: Into<String>,
    {
        self.config.queues = QueueOrder::Strict(queues.into_iter().map(Into::into).collect());
        self
    }

    /// Fetches from these queues in weighted random order: a queue with
    /// weight 6 is tried first six times as often as one with weight 1.
    pub fn weighted_queues<I, Q>(mut self, queues: I) -> Self
    where
        I: IntoIterator<Item = (Q, u32)>,
        Q: Into<String>,
    {
        self.config.queues = QueueOrder::Weighted(
            queues
                .into_iter()
                .map(|(name, weight)| (name.into(), weight))
                .collect(),
        );
        self
    }

    /// Starts even when the explicit queue list leaves out the queue of a
    /// registered job type or cron entry: for a worker that registers job
    /// types it does not serve (they run on other workers, or are always
    /// enqueued to another queue with `.queue(..)`).
    pub fn allow_unserved_queues(mut self) -> Self {
        self.allow_unserved_queues = true;
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

    /// Whether an idle worker waits on each empty queue's ready list with a
    /// blocking move (default on): the push of a job then reaches it in the
    /// push's own hop, instead of after the producer's published wake-up.
    /// Each watched queue (the first 16 served) takes one connection of its
    /// own (on a Cluster, a cluster connection); a queue with flow limits
    /// is never watched, and nothing is watched through Sentinel. If Redis
    /// refuses `BLMOVE` (an ACL without it) the worker logs a warning and
    /// stops watching that queue; the published wake-up still works.
    pub fn watch_ready(mut self, watch: bool) -> Self {
        self.config.watch_ready = watch;
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

    /// Keeps per-job logs: the `tracing` events each attempt emits inside
    /// its job's span, capped and redacted as `logs` says, stored with the
    /// job when the attempt ends (`Admin::job_logs`, the job page). Needs
    /// [`JobLogLayer`](crate::JobLogLayer) in the process's subscriber.
    /// Off by default: without this call nothing is captured or written.
    pub fn job_logs(mut self, logs: JobLogs) -> Self {
        self.job_logs = Some(logs);
        self
    }

    /// Replaces every setting at once.
    pub fn config(mut self, config: WorkerConfig) -> Self {
        self.config = config;
        self
    }

    /// Enqueues `job` on the cron schedule `expression` (seconds field
    /// optional, UTC), as the entry named after the job type, and registers
    /// `J` (as [`WorkerBuilder::register`]) so this worker runs what it
    /// schedules. Any number of workers may register the same entry: each
    /// tick is enqueued once. See [`WorkerBuilder::cron_entry`] for time
    /// zones, queues and misfire policies, and to schedule a job this worker
    /// does not run; an invalid expression makes [`WorkerBuilder::start`]
    /// fail.
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
    ///     .cron("0 */5 * * * *", PruneSessions) // also registers PruneSessions
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn cron<J>(mut self, expression: &str, job: J) -> Self
    where
        J: StatefulJob,
        J::State: ProvidedBy<S>,
    {
        self.registry.register::<J>();
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
