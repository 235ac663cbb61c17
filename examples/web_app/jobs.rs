//! The web app's background jobs, and the worker that runs them.

use std::time::Duration;

use jobqueue::{Client, Job, JobContext, JobError};
use jobqueue::{Worker, WorkerBuilder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a job's status (progress, result, error) stays readable at
/// `/jobs/…` after its last update.
pub const STATUS_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendWelcomeEmail {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
}

impl Job for SendWelcomeEmail {
    const NAME: &'static str = "web_app.send_welcome_email";
    const QUEUE: &'static str = "mail";
    const MAX_ATTEMPTS: u32 = 10;

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        // A real app calls its mail provider here; errors are retried.
        tokio::time::sleep(Duration::from_millis(300)).await;
        tracing::info!(user = %self.user_id, "sent the welcome email to {}", self.email);
        ctx.set_result(&serde_json::json!({ "sent_to": self.email }))?;
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MakeThumbnail {
    pub user_id: Uuid,
    pub avatar_url: String,
}

impl Job for MakeThumbnail {
    const NAME: &'static str = "web_app.make_thumbnail";
    const QUEUE: &'static str = "images";
    const MAX_ATTEMPTS: u32 = 5;
    const TIMEOUT: Option<Duration> = Some(Duration::from_secs(60));

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        if !is_image_url(&self.avatar_url) {
            // Retrying will not turn this into an image: dead at once.
            return Err(JobError::permanent(format!(
                "{} is not a PNG, JPEG or WebP image",
                self.avatar_url
            )));
        }
        ctx.set_progress(10, "downloading").await?;
        tokio::time::sleep(Duration::from_millis(250)).await;
        ctx.set_progress(60, "resizing").await?;
        tokio::time::sleep(Duration::from_millis(250)).await;
        let thumbnail = format!("https://cdn.example.com/thumbs/{}-128.webp", self.user_id);
        ctx.set_result(&serde_json::json!({ "thumbnail_url": thumbnail }))?;
        Ok(())
    }
}

fn is_image_url(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".webp"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The app's worker: every job type, both queues (mail first).
pub fn worker(client: Client) -> WorkerBuilder {
    Worker::builder(client)
        .register::<SendWelcomeEmail>()
        .register::<MakeThumbnail>()
        .concurrency(20)
        .status_ttl(STATUS_TTL)
}
