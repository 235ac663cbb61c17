//! Quickstart: the smallest complete jobqueue program — a job type, a
//! producer that enqueues it, and a worker that runs it.
//!
//! Run it (Redis 7+ at `JOBQUEUE_REDIS_URL`, default `redis://127.0.0.1:6379`):
//!
//! ```text
//! cargo run -p jobqueue-examples --example quickstart
//! ```
//!
//! It enqueues three welcome emails, starts a worker that sends them, and
//! stops the worker gracefully once the queue is empty. A real worker
//! process runs until it is told to stop instead:
//! `Worker::builder(client)…run_until(jobqueue::shutdown_signal())`.

use std::time::Duration;

use jobqueue::Worker;
use jobqueue::{Client, ClientConfig, Job, JobContext, JobError};
use serde::{Deserialize, Serialize};

/// The job: its fields are the payload, stored as JSON in Redis.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendWelcomeEmail {
    pub user_id: u64,
    pub email: String,
}

impl Job for SendWelcomeEmail {
    /// The name routes stored jobs to this handler: keep it stable.
    const NAME: &'static str = "send_welcome_email";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        // Returning Err retries the job with backoff (25 attempts by default).
        tracing::info!(job = %ctx.id(), attempt = ctx.attempt(), "sending a welcome email to {}", self.email);
        Ok(())
    }
}

/// The producer side: what a web request handler would do.
pub async fn sign_up_users(client: &Client) -> Result<(), jobqueue::Error> {
    for (user_id, email) in [
        (1, "ada@example.com"),
        (2, "grace@example.com"),
        (3, "alan@example.com"),
    ] {
        let id = client
            .enqueue(SendWelcomeEmail {
                user_id,
                email: email.into(),
            })
            .await?;
        println!("enqueued welcome email for {email}: job {id}");
    }
    Ok(())
}

/// The worker side: run jobs until the queue is empty, then stop gracefully.
pub async fn work_until_idle(client: Client) -> Result<(), Box<dyn std::error::Error>> {
    let worker = Worker::builder(client.clone())
        .register::<SendWelcomeEmail>()
        .concurrency(10)
        .start()
        .await?;
    loop {
        let queue = client.admin().queue("default").await?;
        if queue.ready == 0 && queue.active == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    // JOBQUEUE_REDIS_URL and JOBQUEUE_PREFIX, with defaults.
    let client = Client::with_config(ClientConfig::from_env()).await?;
    sign_up_users(&client).await?;
    work_until_idle(client.clone()).await?;
    let queue = client.admin().queue("default").await?;
    println!(
        "done: {} jobs processed on queue 'default' so far",
        queue.processed
    );
    Ok(())
}
