//! [`Client`]: the producer's handle — the connection, the configuration
//! and the queue keys it has built — and what every enqueue path shares:
//! how a failed write is reported, the replica wait.

use std::sync::{Arc, RwLock};

use crate::admin::Admin;
use crate::config::ClientConfig;
use crate::error::Error;
use crate::store::Store;
use crate::store::keys::QueueKeys;

/// Highest accepted priority magnitude.
pub const MAX_PRIORITY: i16 = 100;

/// Enqueues jobs. Cheap to clone: clones share one Redis connection.
///
/// ```no_run
/// use jobqueue_core::{Client, Job, JobContext, JobError};
/// use serde::{Deserialize, Serialize};
/// use std::time::Duration;
///
/// #[derive(Serialize, Deserialize)]
/// struct SendWelcomeEmail { user_id: u64, email: String }
///
/// impl Job for SendWelcomeEmail {
///     const NAME: &'static str = "send_welcome_email";
///     async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> { Ok(()) }
/// }
///
/// # async fn demo() -> Result<(), jobqueue_core::Error> {
/// let client = Client::connect("redis://127.0.0.1:6379").await?;
/// let job = || SendWelcomeEmail { user_id: 1, email: "a@example.com".into() };
/// let id = client.enqueue(job()).await?;                          // now
/// client.enqueue_in(Duration::from_secs(30), job()).await?;       // delayed
/// client.enqueue_at(chrono::Utc::now(), job()).await?;            // at a time
/// client.job(job()).queue("mail").max_attempts(5).enqueue().await?; // with options
/// client.enqueue_bulk((0..1000).map(|_| job())).await?;           // one round trip
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    store: Store,
    config: ClientConfig,
    /// Queue keys built so far (also: queues already registered).
    queues: RwLock<Vec<Arc<QueueKeys>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("prefix", &self.inner.config.prefix)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the Redis at `url` with default settings.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::with_config(ClientConfig::new(url)).await
    }

    /// Connects with the given settings.
    pub async fn with_config(config: ClientConfig) -> Result<Self, Error> {
        let store =
            Store::connect(&config.redis_url, &config.prefix, config.connection.clone()).await?;
        Ok(Self {
            inner: Arc::new(ClientInner {
                store,
                config,
                queues: RwLock::new(Vec::new()),
            }),
        })
    }

    /// A client over `store` (its connection and prefix) with default
    /// settings otherwise: for operator code that holds only an [`Admin`]
    /// and must enqueue (a workflow's retry).
    pub(crate) fn over_store(store: Store) -> Self {
        let mut config = ClientConfig::new("");
        config.prefix = store.keys().prefix().to_owned();
        Self {
            inner: Arc::new(ClientInner {
                store,
                config,
                queues: RwLock::new(Vec::new()),
            }),
        }
    }

    /// The settings this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The underlying store (low-level, one method per state transition).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The operator API: inspect queues and jobs, retry, delete, pause.
    pub fn admin(&self) -> Admin {
        Admin::new(self.inner.store.clone())
    }

    /// A failed write as the caller must see it: through redis-rs's Redis
    /// Cluster client, which repeats a request by itself after a dropped
    /// connection, any Redis failure may follow an attempt that was
    /// applied (see [`Error::OutcomeUnknown`]).
    pub(crate) fn write_error(&self, err: Error) -> Error {
        if self.inner.store.is_cluster() {
            err.after_retrying_client()
        } else {
            err
        }
    }

    /// The idempotency window in whole milliseconds (at least one).
    pub(crate) fn idempotency_window_ms(&self) -> Result<u64, Error> {
        let ms =
            u64::try_from(self.inner.config.idempotency_window.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return Err(Error::invalid(
                "enqueue",
                "the idempotency window (ClientConfig::idempotency_window) must be at least 1 ms",
            ));
        }
        Ok(ms)
    }

    /// With [`ClientConfig::wait_for_replicas`]: waits until the replicas
    /// of `queue`'s primary confirmed the writes sent so far.
    pub(crate) async fn confirm_replicated(&self, queue: &QueueKeys) -> Result<(), Error> {
        let Some(wait) = self.inner.config.replica_wait else {
            return Ok(());
        };
        let acknowledged = self
            .inner
            .store
            .wait_for_replicas(queue.ready(), wait.replicas, wait.timeout)
            .await?;
        if acknowledged < i64::from(wait.replicas) {
            return Err(Error::NotReplicated {
                op: "enqueue",
                acknowledged,
                wanted: wait.replicas,
            });
        }
        Ok(())
    }

    /// Keys of `queue`, registering the queue name on first use.
    pub(crate) async fn queue_keys(&self, queue: &str) -> Result<Arc<QueueKeys>, Error> {
        if let Ok(known) = self.inner.queues.read()
            && let Some(keys) = known.iter().find(|q| q.name() == queue)
        {
            return Ok(keys.clone());
        }
        let keys = Arc::new(self.inner.store.queue_keys(queue)?);
        self.inner.store.register_queues([queue]).await?;
        if let Ok(mut known) = self.inner.queues.write()
            && !known.iter().any(|q| q.name() == queue)
        {
            known.push(keys.clone());
        }
        Ok(keys)
    }
}
