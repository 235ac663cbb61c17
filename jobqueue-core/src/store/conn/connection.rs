//! [`RedisConnection`]: one reconnecting, multiplexed connection per
//! process, over a single server, a Cluster or a Sentinel-managed primary.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, Pipeline, RedisFuture, Value};

use crate::error::Error;

use crate::store::conn::cluster_pipeline;
use crate::store::conn::direct_lane::DirectLane;
use crate::store::conn::sentinel::{SentinelConnection, SentinelTarget};
use crate::store::conn::settings::ConnectionSettings;
use crate::store::conn::topology::RedisTopology;
use crate::store::conn::url::{open_client, redact_url};

/// A connection to Redis shared by all tasks of a process (cheap to clone).
#[derive(Clone)]
pub struct RedisConnection {
    inner: Inner,
    /// For single commands awaited one at a time (plain TCP only).
    direct: Option<Arc<DirectLane>>,
}

#[derive(Clone)]
enum Inner {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(SentinelConnection),
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConnection").finish_non_exhaustive()
    }
}

impl RedisConnection {
    /// Connects to the Redis at `url`: one server (`redis://`, `rediss://`,
    /// `unix://`), a cluster (`redis+cluster://`) or a Sentinel-managed
    /// primary (`redis+sentinel://`); see [`RedisTopology`].
    pub async fn connect(url: &str, settings: ConnectionSettings) -> Result<Self, Error> {
        let mut direct = None;
        let inner = match RedisTopology::parse(url)? {
            RedisTopology::Single { url } => {
                let client = open_client(&url)?;
                // The lane speaks its own handshake: it would not re-AUTH.
                if settings.direct_lane && settings.credentials.is_none() {
                    direct =
                        DirectLane::for_connection(client.get_connection_info(), settings.clone())
                            .map(Arc::new);
                }
                Inner::Single(connect_single(client, settings).await?)
            }
            RedisTopology::Cluster { nodes } => {
                Inner::Cluster(connect_cluster(&nodes, settings).await?)
            }
            RedisTopology::Sentinel {
                sentinels,
                service,
                username,
                password,
                db,
                tls,
            } => {
                let target = SentinelTarget {
                    sentinels: &sentinels,
                    service: &service,
                    username: username.as_deref(),
                    password: password.as_deref(),
                    db,
                    tls,
                };
                Inner::Sentinel(SentinelConnection::connect(target, settings).await?)
            }
        };
        Ok(Self { inner, direct })
    }

    /// Runs one awaited command with a short reply (a line, or a script's
    /// small array) over the direct lane when it is free, else over the
    /// shared connection (see [`self::direct_lane`]).
    pub(crate) async fn query_direct(&self, cmd: &Cmd) -> Result<Value, redis::RedisError> {
        if let Some(lane) = &self.direct
            && let Some(reply) = lane.query(cmd).await?
        {
            return reply.extract_error();
        }
        cmd.query_async(&mut self.clone()).await
    }

    /// Waits until `replicas` replicas acknowledged every write this
    /// process sent so far to the node holding `key` (Redis `WAIT`), or
    /// `timeout` passes. Returns how many replicas acknowledged.
    pub async fn wait_for_replicas(
        &self,
        key: &str,
        replicas: u32,
        timeout: Duration,
    ) -> Result<i64, Error> {
        let mut cmd = redis::cmd("WAIT");
        cmd.arg(replicas)
            .arg(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        let reply = match &self.inner {
            // WAIT has no key: route it to the primary of `key`'s slot,
            // over the same connection that carried the writes.
            Inner::Cluster(conn) => {
                let route = Route::with_key(key, SlotAddr::Master);
                conn.clone()
                    .route_command(
                        cmd,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                    )
                    .await
            }
            _ => cmd.query_async::<Value>(&mut self.clone()).await,
        };
        let reply = reply.map_err(Error::redis("wait_for_replicas"))?;
        crate::store::reply::int_reply(&reply, "wait_for_replicas")
    }

    /// Whether this is a Redis Cluster connection.
    pub fn is_cluster(&self) -> bool {
        matches!(self.inner, Inner::Cluster(_))
    }

    /// The servers a key-space scan must visit: this connection's one
    /// server, or on a Cluster each primary (from `CLUSTER NODES`).
    pub async fn scan_targets(&self) -> Result<Vec<ScanTarget>, Error> {
        let Inner::Cluster(conn) = &self.inner else {
            return Ok(vec![ScanTarget(None)]);
        };
        let reply = conn
            .clone()
            .route_command(
                redis::cmd("CLUSTER").arg("NODES").clone(),
                RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
            )
            .await
            .map_err(Error::redis("scan"))?;
        let text: String =
            redis::from_redis_value(reply).map_err(|e| Error::protocol("scan", e.to_string()))?;
        Ok(cluster_primaries(&text)
            .into_iter()
            .map(|address| ScanTarget(Some(address)))
            .collect())
    }

    /// Runs `cmd` on one scan target.
    pub async fn query_on(&self, target: &ScanTarget, cmd: Cmd) -> Result<Value, Error> {
        let reply = match (&self.inner, &target.0) {
            (Inner::Cluster(conn), Some((host, port))) => {
                let node = SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port: *port,
                };
                conn.clone()
                    .route_command(cmd, RoutingInfo::SingleNode(node))
                    .await
            }
            _ => cmd.query_async::<Value>(&mut self.clone()).await,
        };
        reply.map_err(Error::redis("scan"))
    }
}

/// One server a key-space scan visits: `None` for the connection's own
/// server, else a Cluster primary's host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanTarget(Option<(String, u16)>);

/// The primaries' addresses in a `CLUSTER NODES` reply: lines
/// `<id> <host:port@cport[,hostname]> <flags> …`, flags with `master` and
/// without `fail` or `noaddr`.
fn cluster_primaries(nodes: &str) -> Vec<(String, u16)> {
    nodes
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let address = fields.nth(1)?;
            let flags = fields.next()?;
            let primary = flags.split(',').any(|f| f == "master")
                && !flags
                    .split(',')
                    .any(|f| f.starts_with("fail") || f == "noaddr");
            if !primary {
                return None;
            }
            let host_port = address.split(['@', ',']).next()?;
            let (host, port) = host_port.rsplit_once(':')?;
            Some((host.to_owned(), port.parse().ok()?))
        })
        .collect()
}

async fn connect_single(
    client: redis::Client,
    settings: ConnectionSettings,
) -> Result<ConnectionManager, Error> {
    let mut config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(settings.connect_timeout))
        .set_response_timeout(Some(settings.response_timeout))
        .set_number_of_retries(settings.reconnect_retries)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_secs(1));
    if let Some(credentials) = settings.credentials {
        config = config.set_credentials_provider(credentials);
    }
    ConnectionManager::new_with_config(client, config)
        .await
        .map_err(Error::redis("connect"))
}

async fn connect_cluster(
    nodes: &[String],
    settings: ConnectionSettings,
) -> Result<ClusterConnection, Error> {
    let mut builder = redis::cluster::ClusterClientBuilder::new(nodes.iter().map(String::as_str));
    if let Some(credentials) = settings.credentials {
        builder = builder.set_credentials_provider(credentials);
    }
    let client = builder
        .connection_timeout(settings.connect_timeout)
        .response_timeout(settings.response_timeout)
        // Enough retries, with redis-rs's backoff, to ride out a failover
        // (a replica is promoted after cluster-node-timeout, seconds).
        .retries(
            u32::try_from(settings.reconnect_retries)
                .unwrap_or(u32::MAX)
                .max(1)
                * 4,
        )
        .build()
        .map_err(|e| {
            Error::invalid(
                "connect",
                format!(
                    "invalid cluster seed nodes {:?}: {e}",
                    nodes.iter().map(|n| redact_url(n)).collect::<Vec<_>>()
                ),
            )
        })?;
    client
        .get_async_connection()
        .await
        .map_err(Error::redis("connect"))
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.inner {
            Inner::Single(conn) => conn.req_packed_command(cmd),
            Inner::Cluster(conn) => conn.req_packed_command(cmd),
            Inner::Sentinel(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.inner {
            Inner::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Inner::Cluster(conn) => Box::pin(cluster_pipeline::run(conn, pipeline, offset, count)),
            Inner::Sentinel(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.inner {
            Inner::Single(conn) => conn.get_db(),
            Inner::Cluster(conn) => conn.get_db(),
            Inner::Sentinel(conn) => conn.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_primaries_are_read_from_cluster_nodes() {
        let nodes = "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n\
                     b2 127.0.0.1:7001@17001,host-b master - 0 0 2 connected 5461-10922\n\
                     c3 127.0.0.1:7003@17003 slave a1 0 0 1 connected\n\
                     d4 127.0.0.1:7002@17002 master,fail - 0 0 3 connected\n";
        assert_eq!(
            cluster_primaries(nodes),
            vec![
                ("127.0.0.1".to_owned(), 7000),
                ("127.0.0.1".to_owned(), 7001)
            ]
        );
    }

    #[test]
    fn bad_urls_are_invalid_arguments() {
        let err = open_client("http://nope").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
    }
}
