//! Backoff for retrying Redis operations after errors: exponential with
//! full jitter, so many workers that lost Redis at the same moment do not
//! reconnect in lockstep (no thundering herd) and none spins in a tight loop.

use std::time::Duration;

/// Delays for successive retries of one failing operation.
#[derive(Debug)]
pub(crate) struct RetryBackoff {
    next: Duration,
    max: Duration,
}

impl RetryBackoff {
    pub(crate) fn new(first: Duration, max: Duration) -> Self {
        Self { next: first, max }
    }

    /// The delay before the next retry: uniformly random in [d/2, d], with
    /// d doubling each time up to the maximum.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self.next;
        self.next = (self.next * 2).min(self.max);
        let half = ceiling / 2;
        half + Duration::from_micros(fastrand::u64(..=half.as_micros() as u64))
    }

    /// Back to the first delay after a success.
    pub(crate) fn reset(&mut self, first: Duration) {
        self.next = first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_and_never_below_half() {
        let mut backoff = RetryBackoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let delays: Vec<Duration> = (0..10).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(50) && delays[0] <= Duration::from_millis(100));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(1)));
        assert!(delays[9] >= Duration::from_millis(500));
        backoff.reset(Duration::from_millis(100));
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }
}
