//! The app jobqueue is for, whole: an axum service whose `POST /signup`
//! enqueues a welcome e-mail and a reminder 10 s later, whose
//! `POST /reports` starts a slow report (progress and result at
//! `GET /reports/{id}`), with a cron cleanup every minute, a flaky job that
//! succeeds on its third attempt, one that ends in the dead set, and the
//! dashboard at `/admin/jobs` behind a sign-in page. The worker runs in the
//! same process; Ctrl-C or SIGTERM stops both. `docs/getting-started.md`
//! walks through it.
//!
//! ```text
//! ADMIN_PASSWORD=change-me-to-16-chars cargo run -p jobqueue-examples --example web_app
//! curl -i -d 'email=ada@example.com' http://127.0.0.1:3000/signup
//! curl -s -X POST http://127.0.0.1:3000/reports          # {"id":"…"}
//! curl -s http://127.0.0.1:3000/reports/<id>             # queued, running 40%, succeeded
//! ```
//!
//! then open <http://127.0.0.1:3000/admin/jobs> and sign in as `admin`.

mod jobs;
mod routes;

use jobqueue::{Client, ClientConfig, serve_app_and_worker, shutdown_signal};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let client = Client::with_config(ClientConfig::from_env()).await?;
    let password = std::env::var("ADMIN_PASSWORD").map_err(|_| "set ADMIN_PASSWORD (16+ chars)")?;
    let addr = std::env::var("WEB_APP_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());

    // Two jobs that show failure handling on the dashboard (retried with the
    // default backoff: the charge succeeds about 45 s later).
    client.enqueue(jobs::ChargeCard { order: 1 }).await?;
    client
        .enqueue(jobs::ImportFeed {
            url: "ftp://gone".into(),
        })
        .await?;

    let app = routes::router(client.clone(), password);
    let worker = jobs::worker(client, jobs::Mailer);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("listening on http://{addr}");
    serve_app_and_worker(listener, app, worker, shutdown_signal()).await?;
    Ok(())
}
