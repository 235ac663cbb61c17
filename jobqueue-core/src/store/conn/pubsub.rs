//! Opening a pub/sub connection (workers' wake-ups) on any topology.

use crate::error::Error;
use crate::store::conn::sentinel::SentinelTarget;
use crate::store::conn::topology::RedisTopology;
use crate::store::conn::url::open_client;

/// Opens a pub/sub connection for `url`'s topology. On a cluster any node
/// hears every `PUBLISH` (the cluster bus broadcasts them), so the seed
/// nodes are tried in turn, starting at `attempt` (pass a counter that
/// grows with each reconnect to move off a dead node). Through Sentinel
/// the current primary is resolved first.
pub async fn open_pubsub(url: &str, attempt: usize) -> Result<redis::aio::PubSub, Error> {
    let topology = RedisTopology::parse(url)?;
    if let RedisTopology::Sentinel {
        sentinels,
        service,
        username,
        password,
        db,
        tls,
    } = &topology
    {
        let target = SentinelTarget {
            sentinels,
            service,
            username: username.as_deref(),
            password: password.as_deref(),
            db: *db,
            tls: *tls,
        };
        return crate::store::conn::sentinel::open_pubsub(&target).await;
    }
    let urls = topology.pubsub_urls();
    let mut last_error = None;
    for offset in 0..urls.len() {
        let node = &urls[(attempt + offset) % urls.len()];
        match open_client(node)?.get_async_pubsub().await {
            Ok(pubsub) => return Ok(pubsub),
            Err(err) => last_error = Some(err),
        }
    }
    Err(match last_error {
        Some(err) => Error::redis("subscribe")(err),
        None => Error::invalid("subscribe", "no node to subscribe on"),
    })
}
