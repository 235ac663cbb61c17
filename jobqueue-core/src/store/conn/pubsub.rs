//! Opening a pub/sub connection (workers' wake-ups) on any topology.

use crate::credentials::{CredentialsSource, auth_error};
use crate::error::Error;
use crate::store::conn::sentinel::SentinelTarget;
use crate::store::conn::topology::RedisTopology;
use crate::store::conn::url::open_client;

/// Opens a pub/sub connection for `url`'s topology. On a cluster any node
/// hears every `PUBLISH` (the cluster bus broadcasts them), so the seed
/// nodes are tried in turn, starting at `attempt` (pass a counter that
/// grows with each reconnect to move off a dead node). Through Sentinel
/// the current primary is resolved first.
///
/// With `credentials`, the connection logs in with credentials fetched
/// from them now. A subscribed connection cannot re-`AUTH` (RESP2 allows
/// only subscription commands on it), so it keeps the session it opened;
/// each reconnect fetches fresh credentials.
pub async fn open_pubsub(
    url: &str,
    attempt: usize,
    credentials: Option<&CredentialsSource>,
) -> Result<redis::aio::PubSub, Error> {
    let topology = RedisTopology::parse(url)?;
    let login = match credentials {
        Some(source) => Some(
            source
                .fetch()
                .await
                .map_err(|e| Error::redis("subscribe")(auth_error(e)))?,
        ),
        None => None,
    };
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
            username: login
                .as_ref()
                .map(|l| l.username.as_str())
                .or(username.as_deref()),
            password: login
                .as_ref()
                .map(|l| l.password.as_str())
                .or(password.as_deref()),
            db: *db,
            tls: *tls,
        };
        return crate::store::conn::sentinel::open_pubsub(&target).await;
    }
    let urls = topology.pubsub_urls();
    let mut last_error = None;
    for offset in 0..urls.len() {
        let node = &urls[(attempt + offset) % urls.len()];
        let mut info = open_client(node)?.get_connection_info().clone();
        if let Some(login) = &login {
            let redis = info
                .redis_settings()
                .clone()
                .set_username(&login.username)
                .set_password(&login.password);
            info = info.set_redis_settings(redis);
        }
        let client = redis::Client::open(info).map_err(Error::redis("subscribe"))?;
        match client.get_async_pubsub().await {
            Ok(pubsub) => return Ok(pubsub),
            Err(err) => last_error = Some(err),
        }
    }
    Err(match last_error {
        Some(err) => Error::redis("subscribe")(err),
        None => Error::invalid("subscribe", "no node to subscribe on"),
    })
}
