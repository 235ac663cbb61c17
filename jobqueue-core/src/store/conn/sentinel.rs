//! A connection to the primary that Redis Sentinel names, found again
//! after a failover.
//!
//! The primary is resolved through the sentinels on first use and whenever
//! the current connection fails in a way that means "this is no longer (or
//! not reachable as) the primary": an I/O error, a timeout, or a `READONLY`
//! / `MASTERDOWN` refusal from a demoted primary. A refused command was not
//! executed, so it is sent once more to the newly resolved primary; a
//! command lost to an I/O error may or may not have run, so its error goes
//! to the caller (the worker's loops and the producer retry; jobqueue's
//! transitions are safe to repeat after such an error).
//!
//! A failover does not always break the old connection: after `SENTINEL
//! FAILOVER` the old primary keeps accepting writes until Sentinel gets
//! round to demoting it. So a background task also asks the sentinels
//! every [`PRIMARY_CHECK_INTERVAL`] which node is the primary and moves to
//! the new one when it changed. Writes that reached the old primary in that
//! window are lost when it is demoted — the window `WAIT`
//! ([`crate::ClientConfig::wait_for_replicas`]) closes: the old primary has
//! no replica left to confirm them, so they are never acknowledged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Cmd, IntoConnectionInfo, Pipeline, RedisConnectionInfo, RedisError,
    RedisResult, ServerErrorKind, Value,
};

use crate::error::Error;
use crate::store::conn::ConnectionSettings;

/// How often the sentinels are asked whether the primary moved.
pub(crate) const PRIMARY_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Where the sentinels are and how to log in to the primary.
pub(crate) struct SentinelTarget<'a> {
    pub sentinels: &'a [String],
    pub service: &'a str,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub db: i64,
    pub tls: bool,
}

/// Cheap to clone; clones share the resolver and the current connection.
#[derive(Clone)]
pub(crate) struct SentinelConnection {
    shared: Arc<Shared>,
}

struct Shared {
    resolver: tokio::sync::Mutex<SentinelClient>,
    current: RwLock<Option<Current>>,
    /// Counts connections made, for [`Current::generation`].
    connections: AtomicU64,
    config: AsyncConnectionConfig,
}

#[derive(Clone)]
struct Current {
    /// Bumped on every reconnect, so a stale failure does not drop a fresh connection.
    generation: u64,
    /// `host:port` of the primary.
    address: String,
    conn: MultiplexedConnection,
}

impl SentinelConnection {
    /// Builds the resolver and connects to the current primary.
    pub(crate) async fn connect(
        target: SentinelTarget<'_>,
        settings: ConnectionSettings,
    ) -> Result<Self, Error> {
        let resolver = build_resolver(&target).map_err(Error::redis("connect"))?;
        let mut config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.response_timeout));
        if let Some(credentials) = settings.credentials {
            config = config.set_credentials_provider(credentials);
        }
        let connection = Self {
            shared: Arc::new(Shared {
                resolver: tokio::sync::Mutex::new(resolver),
                current: RwLock::new(None),
                connections: AtomicU64::new(0),
                config,
            }),
        };
        connection
            .current()
            .await
            .map_err(Error::redis("connect"))?;
        tokio::spawn(watch_primary(Arc::downgrade(&connection.shared)));
        Ok(connection)
    }

    /// The address-independent handle to the current primary, resolving it if needed.
    async fn current(&self) -> RedisResult<Current> {
        if let Some(current) = self.read_current() {
            return Ok(current);
        }
        let mut resolver = self.shared.resolver.lock().await;
        // Another task may have reconnected while this one waited.
        if let Some(current) = self.read_current() {
            return Ok(current);
        }
        let client = resolver.async_get_client().await?;
        let address = client.get_connection_info().addr().to_string();
        let conn = client
            .get_multiplexed_async_connection_with_config(&self.shared.config)
            .await?;
        let mut slot = self
            .shared
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let generation = self.shared.connections.fetch_add(1, Ordering::Relaxed) + 1;
        let current = Current {
            generation,
            address,
            conn,
        };
        *slot = Some(current.clone());
        tracing::info!(
            generation,
            primary = %current.address,
            "connected to the primary named by Sentinel"
        );
        Ok(current)
    }

    fn read_current(&self) -> Option<Current> {
        self.shared.read_current()
    }

    fn forget(&self, generation: u64) {
        self.shared.forget(generation);
    }

    async fn command(&self, cmd: &Cmd) -> RedisResult<Value> {
        let mut current = self.current().await?;
        match current.conn.req_packed_command(cmd).await {
            Err(err) if lost_primary(&err) => {
                self.forget(current.generation);
                if refused(&err) {
                    let mut fresh = self.current().await?;
                    return fresh.conn.req_packed_command(cmd).await;
                }
                Err(err)
            }
            other => other,
        }
    }

    async fn pipeline(
        &self,
        pipeline: &Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let mut current = self.current().await?;
        match current
            .conn
            .req_packed_commands(pipeline, offset, count)
            .await
        {
            Err(err) if lost_primary(&err) => {
                self.forget(current.generation);
                Err(err)
            }
            Ok(replies) => {
                // A demoted primary refuses writes one by one; the caller sees
                // those replies, the next call goes to the new primary.
                if replies.iter().any(|reply| {
                    matches!(reply, Value::ServerError(e)
                        if matches!(e.kind(), Some(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)))
                }) {
                    self.forget(current.generation);
                }
                Ok(replies)
            }
            Err(err) => Err(err),
        }
    }
}

impl Shared {
    fn read_current(&self) -> Option<Current> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Drops the connection of `generation` so the next call resolves the primary again.
    fn forget(&self, generation: u64) {
        let mut slot = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.as_ref().is_some_and(|c| c.generation == generation) {
            tracing::warn!(generation, "lost the primary; asking Sentinel again");
            *slot = None;
        }
    }
}

/// Asks the sentinels every [`PRIMARY_CHECK_INTERVAL`] who the primary is,
/// and drops the connection when it is another node. Ends when the last
/// handle to the connection is dropped.
async fn watch_primary(shared: Weak<Shared>) {
    loop {
        tokio::time::sleep(PRIMARY_CHECK_INTERVAL).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let Some(current) = shared.read_current() else {
            continue;
        };
        let named = shared.resolver.lock().await.async_get_client().await;
        match named {
            Ok(client) => {
                let address = client.get_connection_info().addr().to_string();
                if address != current.address {
                    tracing::warn!(
                        old = %current.address,
                        new = %address,
                        "Sentinel names a new primary"
                    );
                    shared.forget(current.generation);
                }
            }
            Err(err) => tracing::debug!(error = %err, "could not ask Sentinel for the primary"),
        }
    }
}

impl ConnectionLike for SentinelConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> redis::RedisFuture<'a, Value> {
        Box::pin(self.command(cmd))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<Value>> {
        Box::pin(self.pipeline(pipeline, offset, count))
    }

    fn get_db(&self) -> i64 {
        self.read_current().map_or(0, |c| c.conn.get_db())
    }
}

/// A pub/sub connection to the current primary.
pub(crate) async fn open_pubsub(target: &SentinelTarget<'_>) -> Result<redis::aio::PubSub, Error> {
    let subscribe = async {
        let mut resolver = build_resolver(target)?;
        resolver.async_get_client().await?.get_async_pubsub().await
    };
    subscribe.await.map_err(Error::redis("subscribe"))
}

fn build_resolver(target: &SentinelTarget<'_>) -> RedisResult<SentinelClient> {
    let mut redis_info = RedisConnectionInfo::default().set_db(target.db);
    if let Some(username) = target.username {
        redis_info = redis_info.set_username(username);
    }
    if let Some(password) = target.password {
        redis_info = redis_info.set_password(password);
    }
    let mut node_info = SentinelNodeConnectionInfo::default().set_redis_connection_info(redis_info);
    if target.tls {
        node_info = node_info.set_tls_mode(redis::TlsMode::Secure);
    }
    let sentinels = target
        .sentinels
        .iter()
        .map(|url| url.as_str().into_connection_info())
        .collect::<RedisResult<Vec<_>>>()?;
    SentinelClient::build(
        sentinels,
        target.service.to_owned(),
        Some(node_info),
        SentinelServerType::Master,
    )
}

/// Errors after which the connection may be talking to a non-primary.
fn lost_primary(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || refused(err)
}

/// Refusals by a node that is not (or no longer) a writable primary: the
/// command did not run.
fn refused(err: &RedisError) -> bool {
    matches!(
        err.kind(),
        redis::ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)
    )
}
