//! [`Failure`]: why a scenario failed, in words that name what is wrong;
//! and the small checks scenarios are written with.

use std::future::Future;
use std::time::{Duration, Instant};

/// A failed expectation: what the implementation did wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

impl Failure {
    /// A failure saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<redis::RedisError> for Failure {
    fn from(err: redis::RedisError) -> Self {
        Self(format!("the driver's Redis read failed: {err}"))
    }
}

impl From<jobqueue::Error> for Failure {
    fn from(err: jobqueue::Error) -> Self {
        Self(format!("the driver's Admin/client call failed: {err}"))
    }
}

impl From<jobqueue::testing::TestingError> for Failure {
    fn from(err: jobqueue::testing::TestingError) -> Self {
        Self(format!("the driver's test Redis failed: {err}"))
    }
}

/// What a scenario step returns.
pub type Outcome<T = ()> = Result<T, Failure>;

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(Failure(message()))
    }
}

/// Fails unless `actual == expected`, naming `what`.
pub fn ensure_eq<T: PartialEq + std::fmt::Debug>(what: &str, actual: T, expected: T) -> Outcome {
    ensure(actual == expected, || {
        format!("{what}: expected {expected:?}, found {actual:?}")
    })
}

/// Polls `check` every 50 ms until it succeeds or `within` has passed;
/// then fails with the last failure, saying how long it waited.
pub async fn eventually<T, F, Fut>(within: Duration, mut check: F) -> Outcome<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Outcome<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        match check().await {
            Ok(value) => return Ok(value),
            Err(failure) if Instant::now() >= deadline => {
                return Err(Failure(format!(
                    "{} (still so after {} ms)",
                    failure.0,
                    within.as_millis()
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
