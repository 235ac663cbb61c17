//! Connecting to Redis: one reconnecting, multiplexed connection per process.
//!
//! Commands from every task share one TCP connection (per node, on a
//! cluster) and are pipelined automatically; no blocking command ever runs
//! on it (wake-ups come over a separate pub/sub connection). When the
//! connection drops, the failing call returns an error at once and a
//! reconnect starts; calls made during the reconnect wait for it, bounded
//! by the connect timeout and a few retries, then fail with a clear error —
//! never hang.
//!
//! The URL decides the topology ([`RedisTopology`](topology::RedisTopology)): one server, a Redis
//! Cluster (redis-rs's cluster client, which follows MOVED/ASK and
//! refreshes its slot map after a failover) or a Sentinel-managed primary.

pub(crate) mod cluster_pipeline;
mod connection;
pub(crate) mod direct_lane;
mod pubsub;
pub(crate) mod sentinel;
mod settings;
pub mod topology;
mod url;

pub use connection::{RedisConnection, ScanTarget};
pub use pubsub::open_pubsub;
pub use settings::ConnectionSettings;
pub use url::{open_client, redact_url};
