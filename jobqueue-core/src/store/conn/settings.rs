//! [`ConnectionSettings`]: timeouts for talking to Redis, and whether
//! single awaited enqueues may use their own connection.

use std::time::Duration;

/// Timeouts for talking to Redis, and whether single awaited enqueues may
/// use their own connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// Limit for establishing one TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Limit for one command's reply.
    pub response_timeout: Duration,
    /// Reconnect attempts before a waiting call fails.
    pub reconnect_retries: usize,
    /// Single awaited enqueues go over a direct connection of their own
    /// when it is free (plain-TCP single-server URLs only; see
    /// `store/conn/direct_lane.rs`). Off when producers wait for replicas:
    /// `WAIT` covers only the writes of the connection that sends it.
    pub direct_lane: bool,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(5),
            reconnect_retries: 2,
            direct_lane: true,
        }
    }
}
