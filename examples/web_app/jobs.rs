//! The web app's background jobs, and the worker that runs them.

use std::sync::OnceLock;
use std::time::Duration;

use jobqueue_core::{Client, Job, JobContext, JobError};
use jobqueue_worker::{Worker, WorkerBuilder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a finished job's result stays readable at `/jobs/…`.
const RESULT_TTL: Duration = Duration::from_secs(24 * 3600);

/// Jobs reach Redis through this static: jobqueue does not inject
/// application state into jobs yet.
static JOB_CLIENT: OnceLock<Client> = OnceLock::new();

/// Makes `client` the one jobs use. Call once per process.
pub fn set_job_client(client: &Client) {
    let _ = JOB_CLIENT.set(client.clone());
}

fn job_client() -> Result<&'static Client, JobError> {
    JOB_CLIENT
        .get()
        .ok_or_else(|| JobError::retry("the job client is not set up"))
}

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
        store_result(ctx, &serde_json::json!({ "sent_to": self.email })).await
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
        tokio::time::sleep(Duration::from_millis(500)).await; // "resizing"
        let thumbnail = format!("https://cdn.example.com/thumbs/{}-128.webp", self.user_id);
        store_result(ctx, &serde_json::json!({ "thumbnail_url": thumbnail })).await
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

/// The key a finished job's result is kept under (app data, under the
/// jobqueue prefix so it goes with it).
pub fn result_key(client: &Client, job_id: Uuid) -> String {
    format!("{}:example:result:{job_id}", client.config().prefix_str())
}

/// Keeps the job's result for a day, for the status page.
async fn store_result(ctx: &JobContext, result: &serde_json::Value) -> Result<(), JobError> {
    let client = job_client()?;
    redis::cmd("SET")
        .arg(result_key(client, ctx.id()))
        .arg(result.to_string())
        .arg("EX")
        .arg(RESULT_TTL.as_secs())
        .query_async::<()>(&mut client.store().connection())
        .await
        .map_err(JobError::retry)
}

/// The app's worker: every job type, both queues (mail first).
pub fn worker(client: Client) -> WorkerBuilder {
    Worker::builder(client)
        .register::<SendWelcomeEmail>()
        .register::<MakeThumbnail>()
        .queues(["mail", "images"])
        .concurrency(20)
}
