//! `serve_app_and_worker`: one shutdown signal stops an axum app and a
//! worker together — the server stops accepting and finishes its requests
//! in flight, running jobs finish within the grace period or are handed
//! back, and the call returns promptly.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jobqueue_core::{JobContext, JobError, StatefulJob};
use jobqueue_integration::test_redis;
use jobqueue_testing::eventually;
use jobqueue_worker::serve_app_and_worker;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How far the jobs got.
#[derive(Default)]
struct Progress {
    started: AtomicUsize,
    finished: AtomicUsize,
}

/// Runs for `ms` milliseconds, ignoring cancellation.
#[derive(Serialize, Deserialize)]
struct Work {
    ms: u64,
}

impl StatefulJob for Work {
    type State = Arc<Progress>;
    const NAME: &'static str = "serve_test.work";
    async fn perform(&self, ctx: &JobContext<Arc<Progress>>) -> Result<(), JobError> {
        ctx.state().started.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(self.ms)).await;
        ctx.state().finished.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn app() -> axum::Router {
    axum::Router::new()
        .route("/", axum::routing::get(|| async { "ok" }))
        .route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                "slow done"
            }),
        )
}

/// Sends `GET path` on a new connection; the response text.
async fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

/// Starts the app and a worker with `grace`; returns the address, the
/// trigger of the shutdown signal and the call's task.
async fn start(
    env: &jobqueue_testing::TestRedis,
    progress: &Arc<Progress>,
    grace: Duration,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<jobqueue_worker::WorkerReport, jobqueue_worker::WorkerError>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let worker = env
        .worker()
        .state(progress.clone())
        .register::<Work>()
        .shutdown_grace(grace);
    let (signal, signalled) = tokio::sync::oneshot::channel::<()>();
    let call = tokio::spawn(serve_app_and_worker(listener, app(), worker, async move {
        let _ = signalled.await;
    }));
    (addr, signal, call)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_signal_stops_the_app_and_the_worker_after_their_work_in_flight() {
    let env = test_redis("serve-app").await;
    let progress = Arc::new(Progress::default());
    let (addr, signal, call) = start(&env, &progress, Duration::from_secs(5)).await;
    assert!(get(addr, "/").await.unwrap().ends_with("ok"));

    env.client().enqueue(Work { ms: 500 }).await.unwrap();
    let started = eventually(Duration::from_secs(5), || {
        let progress = progress.clone();
        async move { progress.started.load(Ordering::SeqCst) == 1 }
    })
    .await;
    assert!(started, "the job did not start");
    let in_flight = tokio::spawn(get(addr, "/slow"));
    tokio::time::sleep(Duration::from_millis(100)).await;

    let signalled_at = Instant::now();
    signal.send(()).unwrap();
    let report = call.await.unwrap().unwrap();
    let took = signalled_at.elapsed();

    let response = in_flight.await.unwrap().unwrap();
    assert!(response.ends_with("slow done"), "{response}");
    assert_eq!(progress.finished.load(Ordering::SeqCst), 1);
    assert_eq!(report.handed_back, 0);
    assert!(took < Duration::from_secs(3), "stopping took {took:?}");
    assert!(get(addr, "/").await.is_err(), "the server still accepts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_longer_than_the_grace_period_is_handed_back() {
    let env = test_redis("serve-app-handback").await;
    let progress = Arc::new(Progress::default());
    let (_addr, signal, call) = start(&env, &progress, Duration::from_millis(200)).await;
    env.client().enqueue(Work { ms: 30_000 }).await.unwrap();
    let started = eventually(Duration::from_secs(5), || {
        let progress = progress.clone();
        async move { progress.started.load(Ordering::SeqCst) == 1 }
    })
    .await;
    assert!(started, "the job did not start");

    let signalled_at = Instant::now();
    signal.send(()).unwrap();
    let report = call.await.unwrap().unwrap();
    let took = signalled_at.elapsed();

    assert_eq!(report.handed_back, 1);
    assert_eq!(progress.finished.load(Ordering::SeqCst), 0);
    let queue = env.client().admin().queue("default").await.unwrap();
    assert_eq!(queue.ready, 1, "{queue:?}");
    // Grace (0.2 s) + the cancel and drop steps (up to 1 s each).
    assert!(took < Duration::from_secs(4), "stopping took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_do_not_hold_the_stop() {
    let env = test_redis("serve-app-idle").await;
    let progress = Arc::new(Progress::default());
    let (addr, signal, call) = start(&env, &progress, Duration::from_secs(5)).await;
    // A browser's preconnected socket (no request yet), and a keep-alive
    // connection that made one request and idles.
    let _preconnected = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut kept_alive = tokio::net::TcpStream::connect(addr).await.unwrap();
    kept_alive
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 256];
    let _ = kept_alive.read(&mut buffer).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let signalled_at = Instant::now();
    signal.send(()).unwrap();
    call.await.unwrap().unwrap();
    let took = signalled_at.elapsed();
    assert!(took < Duration::from_millis(500), "stopping took {took:?}");
}
