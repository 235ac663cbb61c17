//! Connecting to Redis: one reconnecting, multiplexed connection per process.
//!
//! Commands from every task share one TCP connection and are pipelined
//! automatically; no blocking command ever runs on it (wake-ups come over a
//! separate pub/sub connection). When the connection drops, the failing
//! call returns an error at once and a reconnect starts in the background;
//! calls made during the reconnect wait for it, bounded by the connect
//! timeout and a few retries, then fail with a clear error — never hang.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisFuture, Value};

use crate::error::Error;

/// Timeouts for talking to Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// Limit for establishing one TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Limit for one command's reply.
    pub response_timeout: Duration,
    /// Reconnect attempts before a waiting call fails.
    pub reconnect_retries: usize,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(5),
            reconnect_retries: 2,
        }
    }
}

/// A connection to Redis shared by all tasks of a process (cheap to clone).
#[derive(Clone)]
pub struct RedisConnection {
    inner: ConnectionManager,
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConnection").finish_non_exhaustive()
    }
}

impl RedisConnection {
    /// Connects to the Redis at `url` (`redis://`, `rediss://`, `unix://`).
    pub async fn connect(url: &str, settings: ConnectionSettings) -> Result<Self, Error> {
        let client = open_client(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.response_timeout))
            .set_number_of_retries(settings.reconnect_retries)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1));
        let inner = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(Error::redis("connect"))?;
        Ok(Self { inner })
    }
}

/// Parses a Redis URL into a client, with a clear error for a bad URL.
pub fn open_client(url: &str) -> Result<redis::Client, Error> {
    redis::Client::open(url).map_err(|e| {
        Error::invalid(
            "connect",
            format!("invalid Redis URL {:?}: {e}", redact_url(url)),
        )
    })
}

/// The URL with any password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let hidden = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                "***".to_owned()
            };
            format!("{}{}{}", &url[..scheme_end + 3], hidden, &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.inner.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.inner.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact_url("redis://user:secret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact_url("redis://:secret@host"), "redis://:***@host");
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
    }

    #[test]
    fn bad_urls_are_invalid_arguments() {
        let err = open_client("http://nope").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
    }
}
