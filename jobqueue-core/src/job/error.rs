//! [`JobError`]: how a handler says a run failed and what to do next.

use std::fmt;
use std::time::Duration;

/// What the worker does after a failed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobErrorAction {
    /// Retry after the backoff delay while attempts remain, then dead-letter.
    Retry,
    /// Do not retry: move the job to the dead set now.
    Permanent,
    /// Run again after this delay without counting an attempt.
    Snooze(Duration),
}

/// The error a job handler returns.
///
/// Any `std::error::Error` converts into a retryable `JobError` with `?`;
/// use the constructors for other outcomes.
///
/// ```
/// use jobqueue_core::JobError;
/// use std::time::Duration;
///
/// fn parse(input: &str) -> Result<u32, JobError> {
///     let n: u32 = input.parse()?; // ParseIntError → retryable JobError
///     if n == 0 {
///         return Err(JobError::permanent("zero is never valid; retrying will not help"));
///     }
///     if n > 100 {
///         return Err(JobError::snooze(Duration::from_secs(60))); // rate limited upstream
///     }
///     Ok(n)
/// }
/// assert!(parse("x").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    action: JobErrorAction,
    message: String,
}

impl JobError {
    /// A failure that is retried with backoff while attempts remain.
    pub fn retry(message: impl fmt::Display) -> Self {
        Self {
            action: JobErrorAction::Retry,
            message: message.to_string(),
        }
    }

    /// A failure that retrying cannot fix: the job goes to the dead set now.
    pub fn permanent(message: impl fmt::Display) -> Self {
        Self {
            action: JobErrorAction::Permanent,
            message: message.to_string(),
        }
    }

    /// Not a failure: run the job again after `delay`, without counting an attempt.
    pub fn snooze(delay: Duration) -> Self {
        Self {
            action: JobErrorAction::Snooze(delay),
            message: format!("snoozed for {} ms", delay.as_millis()),
        }
    }

    /// A snooze with its own message: a durable sleep or a wait for a
    /// signal (`job::steps`), which run again without counting an attempt.
    pub(crate) fn snooze_because(delay: Duration, message: String) -> Self {
        Self {
            action: JobErrorAction::Snooze(delay),
            message,
        }
    }

    /// What the worker will do.
    pub fn action(&self) -> JobErrorAction {
        self.action
    }

    /// The message recorded in the job's error history.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E> From<E> for JobError
where
    E: std::error::Error + Send + Sync + 'static,
{
    /// Converts any error into a retryable `JobError` whose message is the
    /// error and its chain of sources, joined by `": "`.
    fn from(error: E) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::retry(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not reach SMTP")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn converted_errors_carry_their_chain_and_retry() {
        let err: JobError = Outer(std::io::Error::other("connection refused")).into();
        assert_eq!(err.action(), JobErrorAction::Retry);
        assert_eq!(err.message(), "could not reach SMTP: connection refused");
    }

    #[test]
    fn constructors_pick_the_action() {
        assert_eq!(JobError::permanent("x").action(), JobErrorAction::Permanent);
        assert_eq!(
            JobError::snooze(Duration::from_secs(3)).action(),
            JobErrorAction::Snooze(Duration::from_secs(3))
        );
    }
}
