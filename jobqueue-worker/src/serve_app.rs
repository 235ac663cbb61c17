//! [`serve_app_and_worker`] (feature `axum`): a web app and a worker in one
//! process, stopped together by one shutdown signal.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::WorkerError;
use crate::worker::{WorkerBuilder, WorkerReport};

/// How long the server may take to stop after the worker stopped, when
/// requests are still in flight: the worker's grace period already ran.
const SERVER_STOP_TIMEOUT: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` and runs the worker built by `worker` until
/// `shutdown` completes; then stops both at once: the server stops
/// accepting connections and finishes the requests in flight, while the
/// worker stops fetching and gives its running jobs their grace period
/// (`WorkerBuilder::shutdown_grace`), handing back the ones that do not
/// finish. Returns the worker's report once both stopped; requests still
/// running when the worker is done get one more second.
///
/// The worker starts first, so a worker that cannot start (Redis
/// unreachable, a registered queue left out) fails the call before the
/// app takes a request.
///
/// ```no_run
/// # use jobqueue_core::{Client, Job, JobContext, JobError};
/// # #[derive(serde::Serialize, serde::Deserialize)] struct SendWelcomeEmail;
/// # impl Job for SendWelcomeEmail {
/// #     const NAME: &'static str = "send_welcome_email";
/// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
/// # }
/// use jobqueue_worker::{Worker, serve_app_and_worker, shutdown_signal};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::connect("redis://127.0.0.1:6379").await?;
/// let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// let worker = Worker::builder(client).register::<SendWelcomeEmail>();
/// serve_app_and_worker(listener, app, worker, shutdown_signal()).await?;
/// # Ok(()) }
/// ```
pub async fn serve_app_and_worker<S, F>(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    worker: WorkerBuilder<S>,
    shutdown: F,
) -> Result<WorkerReport, WorkerError>
where
    F: Future<Output = ()>,
{
    let mut shutdown = std::pin::pin!(shutdown);
    // Installs signal handlers (see `WorkerBuilder::run_until`).
    let stop_at_once = futures_util::FutureExt::now_or_never(&mut shutdown).is_some();
    let running = worker.start().await?;
    let stop_serving = CancellationToken::new();
    let stopped = stop_serving.clone();
    let mut server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopped.cancelled().await })
            .await
    });
    let server_failed = if stop_at_once {
        None
    } else {
        tokio::select! {
            () = &mut shutdown => None,
            ended = &mut server => Some(server_error(ended)),
        }
    };
    stop_serving.cancel();
    let report = running.shutdown().await;
    if let Some(err) = server_failed {
        return Err(err);
    }
    match tokio::time::timeout(SERVER_STOP_TIMEOUT, &mut server).await {
        Ok(Ok(Ok(()))) => Ok(report),
        Ok(ended) => Err(server_error(ended)),
        Err(_) => {
            server.abort();
            tracing::warn!("requests still running after the worker stopped; dropped");
            Ok(report)
        }
    }
}

/// Why the server task ended, as an error (it only ends when told to).
fn server_error(ended: Result<std::io::Result<()>, tokio::task::JoinError>) -> WorkerError {
    match ended {
        Ok(Ok(())) => WorkerError::Server(std::io::Error::other("the web server stopped")),
        Ok(Err(err)) => WorkerError::Server(err),
        Err(err) => WorkerError::Server(std::io::Error::other(err)),
    }
}
