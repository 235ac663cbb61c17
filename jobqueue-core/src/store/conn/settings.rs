//! [`ConnectionSettings`]: timeouts for talking to Redis, and whether
//! single awaited enqueues may use their own connection, and where
//! connections get their credentials.

use std::time::Duration;

use crate::credentials::CredentialsSource;

/// Timeouts for talking to Redis, and whether single awaited enqueues may
/// use their own connection, and where connections get their credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Gives every connection its credentials at connect time and
    /// re-`AUTH`s live ones before they expire (see [`crate::credentials`]);
    /// `None`: the URL's credentials.
    pub credentials: Option<CredentialsSource>,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(5),
            reconnect_retries: 2,
            direct_lane: true,
            credentials: None,
        }
    }
}
