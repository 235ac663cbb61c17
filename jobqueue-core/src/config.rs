//! [`ClientConfig`]: where Redis is and how to talk to it.

use std::time::Duration;

use crate::credentials::{CredentialsProvider, CredentialsSource};
use crate::store::ConnectionSettings;
use crate::store::keys::DEFAULT_PREFIX;
use crate::wire::payload_codec::PayloadCodec;

/// Default Redis URL.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Default largest payload a producer accepts: 1 MiB. Redis handles bigger
/// values, but multi-megabyte jobs slow every queue operation they pass
/// through; store big data elsewhere and enqueue a reference to it.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// Default idempotency window: how long after its first enqueue a job whose
/// producer gave its id ([`crate::JobBuilder::id`]) is recognised when the
/// same id is enqueued again. An hour covers a producer's retries through a
/// Redis restart or a failover (seconds to minutes) with a wide margin; the
/// marker costs about 150 bytes of Redis memory per such job for as long.
pub const DEFAULT_IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(3600);

/// Environment variable read by [`ClientConfig::from_env`] for the URL.
pub const ENV_REDIS_URL: &str = "JOBQUEUE_REDIS_URL";
/// Environment variable read by [`ClientConfig::from_env`] for the prefix.
pub const ENV_PREFIX: &str = "JOBQUEUE_PREFIX";

/// Settings of a [`crate::Client`].
///
/// ```
/// use jobqueue_core::ClientConfig;
/// use std::time::Duration;
///
/// let config = ClientConfig::new("redis://127.0.0.1:6379")
///     .prefix("myapp")
///     .max_payload_bytes(256 * 1024)
///     .response_timeout(Duration::from_secs(2));
/// assert_eq!(config.prefix_str(), "myapp");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ClientConfig {
    pub(crate) redis_url: String,
    pub(crate) prefix: String,
    pub(crate) max_payload_bytes: usize,
    pub(crate) connection: ConnectionSettings,
    pub(crate) replica_wait: Option<ReplicaWait>,
    pub(crate) idempotency_window: Duration,
    pub(crate) payload_codec: PayloadCodec,
}

/// How many replicas must confirm an enqueue before it is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaWait {
    /// Replicas that must confirm.
    pub replicas: u32,
    /// How long to wait for them.
    pub timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::new(DEFAULT_REDIS_URL)
    }
}

impl ClientConfig {
    /// Settings for the Redis at `redis_url`, with defaults for the rest.
    ///
    /// The URL also picks the topology: `redis://host:port` (or
    /// `rediss://` for TLS, `unix://` for a socket) for one server,
    /// `redis+cluster://host1:port1,host2:port2` for a Redis Cluster,
    /// `redis+sentinel://s1:26379,s2:26379/service` for the primary Sentinel
    /// names; see [`crate::store::RedisTopology`] and docs/redis-topologies.md.
    pub fn new(redis_url: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            connection: ConnectionSettings::default(),
            replica_wait: None,
            idempotency_window: DEFAULT_IDEMPOTENCY_WINDOW,
            payload_codec: PayloadCodec::plain(),
        }
    }

    /// Settings from `JOBQUEUE_REDIS_URL` and `JOBQUEUE_PREFIX`, with
    /// defaults for whatever is unset.
    pub fn from_env() -> Self {
        let url = std::env::var(ENV_REDIS_URL).unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned());
        let config = Self::new(url);
        match std::env::var(ENV_PREFIX) {
            Ok(prefix) if !prefix.is_empty() => config.prefix(prefix),
            _ => config,
        }
    }

    /// How payloads are written and read: compressed above a size,
    /// encrypted under a keyring, both or neither (the default, which
    /// writes records exactly as without it). A worker built from this
    /// config decodes what its codec's features and keys allow and
    /// dead-letters the rest with the reason (docs/payload-encoding.md).
    pub fn payload_codec(mut self, codec: PayloadCodec) -> Self {
        self.payload_codec = codec;
        self
    }

    /// The payload codec (plain unless [`ClientConfig::payload_codec`] set one).
    pub fn codec(&self) -> &PayloadCodec {
        &self.payload_codec
    }

    /// Key prefix (default `jq`): apps sharing one Redis use different prefixes.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Largest accepted payload (default 1 MiB); larger jobs are refused at enqueue.
    pub fn max_payload_bytes(mut self, bytes: usize) -> Self {
        self.max_payload_bytes = bytes;
        self
    }

    /// Limit for establishing a connection (default 2 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connection.connect_timeout = timeout;
        self
    }

    /// Limit for one command's reply (default 5 s).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.connection.response_timeout = timeout;
        self
    }

    /// Logs every connection in with credentials from `provider`, fetched
    /// at connect time, and re-`AUTH`s live command connections before
    /// they expire (cloud IAM tokens, rotated secrets; see
    /// [`crate::credentials`] and docs/redis-topologies.md, "Rotating
    /// credentials"). They replace any username and password in the URL
    /// for the Redis server (not for Sentinel's own nodes). Single awaited
    /// enqueues then go over the shared connection (no direct lane).
    pub fn credentials_provider(mut self, provider: impl CredentialsProvider) -> Self {
        self.connection.credentials = Some(CredentialsSource::new(provider));
        self
    }

    /// Acknowledges an enqueue only after `replicas` replicas confirmed it
    /// (Redis `WAIT`), waiting at most `timeout`; fewer confirmations make
    /// the enqueue return [`crate::Error::NotReplicated`] (the job *is*
    /// enqueued on the primary). Off by default: Redis replication is
    /// asynchronous, so a primary that dies can take its last
    /// milliseconds of writes with it. Costs one more round trip per
    /// enqueue (per queue, for a bulk enqueue). See docs/redis-topologies.md.
    pub fn wait_for_replicas(mut self, replicas: u32, timeout: Duration) -> Self {
        self.replica_wait = Some(ReplicaWait { replicas, timeout });
        // `WAIT` counts only the writes of the connection that sends it,
        // so every enqueue must go over the shared one.
        self.connection.direct_lane = false;
        self
    }

    /// How long after its first enqueue a job whose producer gave its id
    /// ([`crate::JobBuilder::id`]) is recognised when that id is enqueued
    /// again (default [`DEFAULT_IDEMPOTENCY_WINDOW`], 1 hour): within it,
    /// the same job again is a no-op and another job is refused. Set it
    /// longer than your producers' longest retry. A job still waiting
    /// under the id (scheduled, retrying, dead, …) is recognised after the
    /// window too. At least one millisecond.
    pub fn idempotency_window(mut self, window: Duration) -> Self {
        self.idempotency_window = window;
        self
    }

    /// The idempotency window of jobs with producer-given ids.
    pub fn idempotency_window_duration(&self) -> Duration {
        self.idempotency_window
    }

    /// The replica confirmation producers wait for, if any.
    pub fn replica_wait(&self) -> Option<ReplicaWait> {
        self.replica_wait
    }

    /// The Redis URL.
    pub fn redis_url(&self) -> &str {
        &self.redis_url
    }

    /// The key prefix.
    pub fn prefix_str(&self) -> &str {
        &self.prefix
    }

    /// The payload size limit.
    pub fn max_payload(&self) -> usize {
        self.max_payload_bytes
    }

    /// The connection timeouts.
    pub fn connection_settings(&self) -> ConnectionSettings {
        self.connection.clone()
    }
}
