//! Web app: an axum app whose signup form enqueues a welcome e-mail and an
//! avatar thumbnail job and answers at once; a worker in the same process
//! runs the jobs; each job's status is a URL away.
//!
//! Run it (Redis 7+ at `JOBQUEUE_REDIS_URL`, default `redis://127.0.0.1:6379`):
//!
//! ```text
//! cargo run -p jobqueue-examples --example web_app
//! ```
//!
//! then open <http://127.0.0.1:3000>, or from a shell:
//!
//! ```text
//! curl -si -d 'name=Ada&email=ada@example.com&avatar_url=https://example.com/ada.png' http://127.0.0.1:3000/signup
//! curl -s http://127.0.0.1:3000/jobs/images/<id from the links>       # queued_or_running, then done
//! curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/admin/jobs
//! ```
//!
//! Settings: `WEB_APP_ADDR` (default `127.0.0.1:3000`), `WEB_APP_ADMIN_TOKEN`
//! (default: a random token printed at start-up). Ctrl-C stops the server
//! and then the worker, gracefully.
//!
//! The worker runs in the web process to keep the example one command; in
//! production run it as its own process (same `jobs::worker` function) so
//! web and job capacity scale apart.

mod app;
mod jobs;

use std::sync::Arc;

use jobqueue::{Client, ClientConfig};
use tokio::sync::watch;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let client = Client::with_config(ClientConfig::from_env()).await?;

    let admin_token: Arc<str> = match std::env::var("WEB_APP_ADMIN_TOKEN") {
        Ok(token) if !token.is_empty() => token.into(),
        _ => {
            let token = uuid::Uuid::new_v4().simple().to_string();
            println!("admin token (set WEB_APP_ADMIN_TOKEN to choose one): {token}");
            token.into()
        }
    };
    let state = app::AppState {
        jobs: client.clone(),
        admin_token,
    };

    let worker = jobs::worker(client).start().await?;

    let addr = std::env::var("WEB_APP_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{addr}");
    let (stop_tx, mut stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        jobqueue::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    axum::serve(listener, app::router(state))
        .with_graceful_shutdown(async move {
            let _ = stop_rx.wait_for(|stop| *stop).await;
        })
        .await?;
    // The server stopped taking requests: now let running jobs finish.
    let report = worker.shutdown().await;
    println!(
        "stopped; {} unfinished jobs handed back",
        report.handed_back
    );
    Ok(())
}
