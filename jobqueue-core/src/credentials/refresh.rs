//! When live connections refresh their credentials, and the bridge to
//! redis-rs's streaming-credentials hook that re-`AUTH`s them.
//!
//! redis-rs subscribes to [`StreamingCredentialsProvider`] once per
//! connection to log it in, and once more for a background task that sends
//! `AUTH` with every credentials the stream yields afterwards, for as long
//! as the connection lives. The stream here fetches from the provider at
//! once, then again after [`refresh_delay`], forever.

use std::pin::Pin;
use std::time::{Duration, SystemTime};

use futures_util::Stream;
use redis::{BasicAuth, RedisError, RedisResult, StreamingCredentialsProvider};

use crate::credentials::provider::{Credentials, CredentialsError, CredentialsSource};

/// Shortest time between two refreshes (credentials about to expire, or
/// already expired, are refreshed this soon rather than in a busy loop).
pub const MIN_REFRESH_DELAY: Duration = Duration::from_millis(100);

/// How long after a failed fetch a live connection tries again.
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(1);

/// How long after `now` live connections should fetch fresh credentials
/// and re-`AUTH`: at 3/4 of the validity `credentials` have left, or after
/// `interval`, whichever is sooner, never sooner than
/// [`MIN_REFRESH_DELAY`]. `None` when the credentials do not expire and no
/// interval is set: they are never refreshed.
pub fn refresh_delay(
    now: SystemTime,
    credentials: &Credentials,
    interval: Option<Duration>,
) -> Option<Duration> {
    let by_expiry = credentials.valid_until.map(|until| {
        let left = until.duration_since(now).unwrap_or(Duration::ZERO);
        left * 3 / 4
    });
    let delay = match (by_expiry, interval) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some(delay.max(MIN_REFRESH_DELAY))
}

/// A provider's failure as the Redis authentication error it causes.
pub(crate) fn auth_error(error: CredentialsError) -> RedisError {
    RedisError::from((
        redis::ErrorKind::AuthenticationFailed,
        "credentials provider failed",
        error.to_string(),
    ))
}

impl StreamingCredentialsProvider for CredentialsSource {
    fn subscribe(&self) -> Pin<Box<dyn Stream<Item = RedisResult<BasicAuth>> + Send + 'static>> {
        let source = self.clone();
        Box::pin(futures_util::stream::unfold(
            Some(Duration::ZERO),
            move |wait| {
                let source = source.clone();
                async move {
                    match wait {
                        Some(delay) => tokio::time::sleep(delay).await,
                        // Credentials that never expire: nothing more to send.
                        None => std::future::pending::<()>().await,
                    }
                    let fetched = source.fetch().await;
                    let next = match &fetched {
                        Ok(creds) => {
                            refresh_delay(SystemTime::now(), creds, source.refresh_interval())
                        }
                        Err(error) => {
                            tracing::warn!(%error, "cannot fetch Redis credentials; retrying");
                            Some(RETRY_AFTER_ERROR)
                        }
                    };
                    let item = fetched
                        .map(|creds| BasicAuth::new(creds.username, creds.password))
                        .map_err(auth_error);
                    Some((item, next))
                }
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(1_000_000);

    fn at(offset: Duration) -> SystemTime {
        SystemTime::UNIX_EPOCH + NOW + offset
    }

    #[test]
    fn expiring_credentials_refresh_at_three_quarters_of_their_validity() {
        let now = at(Duration::ZERO);
        let creds = Credentials::new("u", "p").valid_until(at(Duration::from_secs(900)));
        assert_eq!(
            refresh_delay(now, &creds, None),
            Some(Duration::from_secs(675))
        );
        // An interval shorter than that wins.
        assert_eq!(
            refresh_delay(now, &creds, Some(Duration::from_secs(60))),
            Some(Duration::from_secs(60))
        );
        // A longer one does not.
        assert_eq!(
            refresh_delay(now, &creds, Some(Duration::from_secs(3600))),
            Some(Duration::from_secs(675))
        );
    }

    #[test]
    fn expired_or_nearly_expired_credentials_refresh_soon_not_in_a_busy_loop() {
        let now = at(Duration::from_secs(10));
        let expired = Credentials::new("u", "p").valid_until(at(Duration::ZERO));
        assert_eq!(refresh_delay(now, &expired, None), Some(MIN_REFRESH_DELAY));
        let nearly = Credentials::new("u", "p").valid_until(at(Duration::from_millis(10_040)));
        assert_eq!(refresh_delay(now, &nearly, None), Some(MIN_REFRESH_DELAY));
    }

    /// Counts its fetches; each gives a new password.
    struct Counting(std::sync::atomic::AtomicU32);

    impl crate::credentials::CredentialsProvider for Counting {
        fn credentials(&self) -> crate::credentials::CredentialsFuture<'_> {
            Box::pin(async {
                let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(Credentials::new("u", format!("p{n}")))
            })
        }

        fn refresh_interval(&self) -> Option<Duration> {
            Some(MIN_REFRESH_DELAY)
        }
    }

    #[tokio::test]
    async fn the_stream_gives_credentials_at_once_then_fresh_ones_on_each_refresh() {
        use futures_util::StreamExt;
        let source = CredentialsSource::new(Counting(std::sync::atomic::AtomicU32::new(0)));
        let started = std::time::Instant::now();
        let passwords: Vec<String> = source
            .subscribe()
            .take(3)
            .map(|auth| auth.unwrap().password().to_owned())
            .collect()
            .await;
        assert_eq!(passwords, ["p0", "p1", "p2"]);
        // The first at once, then one per refresh delay, not in a busy loop.
        assert!(started.elapsed() >= 2 * MIN_REFRESH_DELAY);
    }

    #[test]
    fn credentials_without_expiry_refresh_only_on_an_interval() {
        let now = at(Duration::ZERO);
        let creds = Credentials::new("u", "p");
        assert_eq!(refresh_delay(now, &creds, None), None);
        assert_eq!(
            refresh_delay(now, &creds, Some(Duration::from_secs(30))),
            Some(Duration::from_secs(30))
        );
    }
}
