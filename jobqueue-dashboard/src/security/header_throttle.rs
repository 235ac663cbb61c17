//! Throttling wrong `Authorization` headers (bearer tokens, basic auth),
//! with the sign-in page's counts (`login_attempt.lua`), so a password
//! cannot be guessed through the API faster than on the sign-in page.
//!
//! A right header costs no Redis call: only a wrong one is counted. Once
//! Redis says a client address or a user name is over its limit, this
//! process refuses every header from that address or for that user — a
//! right one too, or the answer would tell a right guess from a wrong
//! one — until the window ends. Every replica learns it at the first wrong
//! header it counts, so a guesser gets the limit plus one try per replica
//! in each window. The counting itself is in `auth.rs`, beside the check.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::credentials::basic_user_name;

/// The window sign-in attempts are counted in: the sign-in page's and
/// the `Authorization` headers'.
pub(crate) const ATTEMPT_WINDOW: Duration = Duration::from_secs(60);

/// Most blocked scopes remembered (expired ones go first); beyond it the
/// oldest is dropped and Redis still refuses its next wrong header.
const MAX_BLOCKED: usize = 10_000;

/// What one request's `Authorization` header is counted under.
pub(crate) struct HeaderAttempt {
    client: Option<IpAddr>,
    /// The basic-auth user name; none for a bearer token (every token
    /// would share one count, and anyone could lock them all out).
    user: Option<String>,
}

impl HeaderAttempt {
    /// The attempt a request with `header_value` makes from `client`.
    pub(crate) fn of(header_value: &str, client: Option<IpAddr>) -> Self {
        Self {
            client,
            user: basic_user_name(header_value),
        }
    }

    fn scopes(&self) -> Vec<String> {
        let client = self.client.map(|ip| format!("ip:{ip}"));
        let user = self.user.as_ref().map(|user| format!("user:{user}"));
        client.into_iter().chain(user).collect()
    }

    /// The client address, if known.
    pub(crate) fn client(&self) -> Option<IpAddr> {
        self.client
    }

    /// The basic-auth user name, if any.
    pub(crate) fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }
}

/// The scopes this process refuses headers from, until when.
#[derive(Debug, Default)]
pub(crate) struct HeaderThrottle {
    blocked: Mutex<HashMap<String, Instant>>,
}

impl HeaderThrottle {
    /// How much longer `attempt`'s sender is refused, if it is.
    pub(crate) fn blocked_for(&self, attempt: &HeaderAttempt) -> Option<Duration> {
        let now = Instant::now();
        let blocked = self
            .blocked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        attempt
            .scopes()
            .iter()
            .filter_map(|scope| blocked.get(scope))
            .filter_map(|until| until.checked_duration_since(now))
            .max()
    }

    /// Refuses `attempt`'s address and user name for `wait`.
    pub(crate) fn block(&self, attempt: &HeaderAttempt, wait: Duration) {
        self.block_scopes(&attempt.scopes(), wait);
    }

    fn block_scopes(&self, scopes: &[String], wait: Duration) {
        let now = Instant::now();
        let mut blocked = self
            .blocked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if blocked.len() >= MAX_BLOCKED {
            blocked.retain(|_, until| *until > now);
        }
        if blocked.len() >= MAX_BLOCKED
            && let Some(oldest) = blocked
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(k, _)| k.clone())
        {
            blocked.remove(&oldest);
        }
        for scope in scopes {
            blocked.insert(scope.clone(), now + wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{HeaderAttempt, HeaderThrottle};

    #[test]
    fn a_blocked_address_or_user_is_refused_until_its_window_ends() {
        let throttle = HeaderThrottle::default();
        let basic = "Basic b3BzOndyb25n"; // ops:wrong
        let from = |ip: &str| HeaderAttempt::of(basic, ip.parse().ok());
        assert_eq!(throttle.blocked_for(&from("198.51.100.1")), None);
        throttle.block(&from("198.51.100.1"), Duration::from_secs(30));
        assert!(throttle.blocked_for(&from("198.51.100.1")).is_some());
        // The same user from elsewhere: blocked by name.
        assert!(throttle.blocked_for(&from("198.51.100.2")).is_some());
        // A bearer token from elsewhere: not blocked.
        let token = HeaderAttempt::of("Bearer abc", "198.51.100.2".parse().ok());
        assert_eq!(throttle.blocked_for(&token), None);
        throttle.block(&from("198.51.100.3"), Duration::ZERO);
        assert_eq!(
            throttle.blocked_for(&HeaderAttempt::of(
                "Bearer abc",
                "198.51.100.3".parse().ok()
            )),
            None
        );
    }
}
