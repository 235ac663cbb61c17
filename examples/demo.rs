//! The demo behind `scripts/demo`: a producer and a worker in one process.
//!
//! Enqueues welcome emails (run now), reminders (delayed 2-6 s), image
//! resizes that fail twice before succeeding (retried with backoff) and a
//! card charge that can never succeed (dead-lettered), runs a worker for
//! about fifteen seconds, then prints what happened to every queue.
//!
//! Run: `scripts/demo` (starts Redis if none runs), or with your own Redis:
//! `JOBQUEUE_REDIS_URL=redis://127.0.0.1:6379 cargo run -p jobqueue-examples --example demo`

use std::time::Duration;

use jobqueue::Worker;
use jobqueue::{BackoffPolicy, Client, ClientConfig, Job, JobContext, JobError, JobSet};
use serde::{Deserialize, Serialize};

/// Key prefix of the demo, so it never touches other data in your Redis.
const PREFIX: &str = "jqdemo";

#[derive(Serialize, Deserialize)]
struct SendWelcomeEmail {
    user_id: u64,
    email: String,
}

impl Job for SendWelcomeEmail {
    const NAME: &'static str = "send_welcome_email";
    const QUEUE: &'static str = "mail";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(20..200))).await;
        tracing::info!(job = %ctx.id(), user = self.user_id, "sent welcome email to {}", self.email);
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct SendReminder {
    user_id: u64,
    due_ms: i64,
}

impl Job for SendReminder {
    const NAME: &'static str = "send_reminder";
    const QUEUE: &'static str = "mail";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let late = chrono::Utc::now().timestamp_millis() - self.due_ms;
        tracing::info!(job = %ctx.id(), user = self.user_id, late_ms = late, "reminder ran on time");
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct ResizeImage {
    image_id: u64,
}

impl Job for ResizeImage {
    const NAME: &'static str = "resize_image";
    const QUEUE: &'static str = "images";

    fn retry_delay(retry: u32) -> Duration {
        // Demo-sized backoff: 0.5 s, 1 s, 2 s, …
        BackoffPolicy::exponential(Duration::from_millis(500), 2.0, Duration::from_secs(10))
            .delay(retry)
    }

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        if ctx.attempt() < 3 {
            tracing::warn!(job = %ctx.id(), attempt = ctx.attempt(), "image service busy, will retry");
            return Err(JobError::retry("image service returned 503"));
        }
        tracing::info!(job = %ctx.id(), image = self.image_id, attempt = ctx.attempt(), "resized");
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct ChargeCard {
    order_id: u64,
}

impl Job for ChargeCard {
    const NAME: &'static str = "charge_card";
    const QUEUE: &'static str = "billing";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        tracing::error!(job = %ctx.id(), order = self.order_id, "card declined: not retrying");
        Err(JobError::permanent(
            "card declined (code 51: insufficient funds)",
        ))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,jobqueue_worker=warn".into()),
        )
        .with_target(false)
        .compact()
        .init();
    let url =
        std::env::var("JOBQUEUE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    clear_demo_keys(&url).await?;
    let client = Client::with_config(ClientConfig::new(&url).prefix(PREFIX)).await?;

    println!("\n— enqueueing (Redis at {url}, key prefix '{PREFIX}') —");
    let emails = (1..=20).map(|user_id| SendWelcomeEmail {
        user_id,
        email: format!("user{user_id}@example.com"),
    });
    let ids = client.enqueue_bulk(emails).await?;
    println!("20 welcome emails, one round trip (first id {})", ids[0]);
    for user_id in 1..=5 {
        let delay = Duration::from_millis(2000 + user_id * 800);
        let due_ms = chrono::Utc::now().timestamp_millis() + delay.as_millis() as i64;
        client
            .enqueue_in(delay, SendReminder { user_id, due_ms })
            .await?;
    }
    println!("5 reminders delayed 2.8–6 s");
    for image_id in 1..=3 {
        client.enqueue(ResizeImage { image_id }).await?;
    }
    println!("3 image resizes that fail twice before they succeed");
    client
        .job(ChargeCard { order_id: 42 })
        .max_attempts(3)
        .enqueue()
        .await?;
    println!("1 card charge that can never succeed\n");

    println!("— a worker runs them for 15 seconds (concurrency 10) —");
    Worker::builder(client.clone())
        .register::<SendWelcomeEmail>()
        .register::<SendReminder>()
        .register::<ResizeImage>()
        .register::<ChargeCard>()
        .queues(["billing", "mail", "images"])
        .concurrency(10)
        .run_until(tokio::time::sleep(Duration::from_secs(15)))
        .await?;

    println!("\n— what happened —");
    let admin = client.admin();
    println!(
        "{:<8} {:>9} {:>6} {:>5} {:>5} {:>5}",
        "queue", "processed", "failed", "ready", "retry", "dead"
    );
    for q in admin.queues().await? {
        println!(
            "{:<8} {:>9} {:>6} {:>5} {:>5} {:>5}",
            q.name, q.processed, q.failed, q.ready, q.retry, q.dead
        );
    }
    for dead in admin.list("billing", JobSet::Dead, 0, 10).await? {
        println!(
            "\ndead job {} ({}), payload {}:",
            dead.id,
            dead.job_type.as_deref().unwrap_or("?"),
            dead.payload
        );
        for error in &dead.errors {
            println!(
                "  attempt {}: {:?}: {}",
                error.attempt, error.kind, error.message
            );
        }
        println!("retry it from code with admin.retry(\"billing\", JobSet::Dead, &[id])");
    }
    Ok(())
}

/// Deletes keys left by an earlier demo run (only under the demo prefix).
async fn clear_demo_keys(url: &str) -> redis::RedisResult<()> {
    let mut conn = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{PREFIX}:*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            redis::cmd("UNLINK")
                .arg(&keys)
                .query_async::<()>(&mut conn)
                .await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}
