//! Start-up of a worker with `run_until`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::{Context, Poll};

use jobqueue_integration::{test_redis, test_worker};

/// A shutdown future that, when first polled, counts the registered
/// workers (a blocking query: it must happen inside `poll`), then completes.
struct CountWorkersOnFirstPoll {
    url: String,
    workers_key: String,
    seen: Arc<AtomicI64>,
}

impl Future for CountWorkersOnFirstPoll {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let mut conn = redis::Client::open(self.url.as_str())
            .and_then(|client| client.get_connection())
            .expect("blocking connection");
        let count: i64 = redis::cmd("ZCARD")
            .arg(&self.workers_key)
            .query(&mut conn)
            .expect("ZCARD");
        self.seen.store(count, Ordering::SeqCst);
        Poll::Ready(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_future_is_polled_before_the_worker_starts() {
    // Polling it first is what installs signal handlers such as
    // `shutdown_signal`'s: a SIGTERM during start-up then stops the worker
    // gracefully instead of killing the process.
    let env = test_redis("startup-signal").await;
    let seen = Arc::new(AtomicI64::new(-1));
    let shutdown = CountWorkersOnFirstPoll {
        url: env.url().to_owned(),
        workers_key: format!("{}:workers", env.prefix()),
        seen: seen.clone(),
    };
    let report = test_worker(&env).run_until(shutdown).await.expect("runs");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "polled before the worker registered"
    );
    assert_eq!(report.handed_back, 0);
    // It still started and stopped cleanly.
    assert!(env.client().admin().workers().await.unwrap().is_empty());
}
