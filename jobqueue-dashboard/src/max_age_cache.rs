//! [`MaxAgeCache`]: a value read from Redis at most once per max age,
//! however many requests ask for it. Concurrent requests for a stale value
//! wait for one refresh instead of each reading Redis.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

struct Cached<T> {
    value: Arc<T>,
    read_at: Instant,
}

/// The cache of one value.
pub(crate) struct MaxAgeCache<T> {
    max_age: Duration,
    current: Mutex<Option<Cached<T>>>,
}

impl<T> MaxAgeCache<T> {
    pub(crate) fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            current: Mutex::new(None),
        }
    }

    /// The current value, refreshed first by `read` when older than the
    /// max age; `read` gets the previous value and when it was read.
    pub(crate) async fn get<E, F, Fut>(&self, read: F) -> Result<Arc<T>, E>
    where
        F: FnOnce(Option<(Arc<T>, Instant)>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // Holding the lock across the refresh makes concurrent callers wait
        // for this one read rather than start their own.
        let mut current = self.current.lock().await;
        if let Some(cached) = current.as_ref()
            && cached.read_at.elapsed() < self.max_age
        {
            return Ok(cached.value.clone());
        }
        let previous = current.as_ref().map(|c| (c.value.clone(), c.read_at));
        let value = Arc::new(read(previous).await?);
        *current = Some(Cached {
            value: value.clone(),
            read_at: Instant::now(),
        });
        Ok(value)
    }
}
