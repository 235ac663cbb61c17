//! The app's background jobs, and the worker that runs them.

use std::time::Duration;

use jobqueue::{Client, Job, JobContext, JobError, StatefulJob, Worker, WorkerBuilder};
use serde::{Deserialize, Serialize};

/// What jobs share: here a mailer that logs; in a real app an SMTP client,
/// a database pool, an HTTP client.
#[derive(Clone)]
pub struct Mailer;

impl Mailer {
    async fn send(&self, to: &str, subject: &str) -> std::io::Result<()> {
        tracing::info!(to, subject, "mail sent");
        Ok(())
    }
}

// Jobs without state run on this worker too.
impl jobqueue::WorkerState for Mailer {}

/// The welcome e-mail, and the reminder 10 s later.
#[derive(Serialize, Deserialize)]
pub struct SendEmail {
    pub to: String,
    pub subject: String,
}

impl StatefulJob for SendEmail {
    type State = Mailer;
    const NAME: &'static str = "send_email";
    const QUEUE: &'static str = "mail";

    async fn perform(&self, ctx: &JobContext<Mailer>) -> Result<(), JobError> {
        ctx.state().send(&self.to, &self.subject).await?; // an error retries with backoff
        Ok(())
    }
}

/// A slow report: progress on the way, a result at the end.
#[derive(Serialize, Deserialize)]
pub struct BuildReport {
    pub pages: u8,
}

impl Job for BuildReport {
    const NAME: &'static str = "build_report";
    const TRACK: bool = true; // its status is readable from enqueue on

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        for page in 1..=self.pages {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let percent = u16::from(page) * 100 / u16::from(self.pages);
            ctx.set_progress(percent as u8, format!("page {page}"))
                .await?;
        }
        ctx.set_result(&serde_json::json!({ "pages": self.pages }))?;
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
pub struct CleanUpSessions;

impl Job for CleanUpSessions {
    const NAME: &'static str = "clean_up_sessions";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        tracing::info!("expired sessions removed");
        Ok(())
    }
}

/// Fails twice, then succeeds: a payment provider having a bad minute.
#[derive(Serialize, Deserialize)]
pub struct ChargeCard {
    pub order: u64,
}

impl Job for ChargeCard {
    const NAME: &'static str = "charge_card";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        if ctx.attempt() < 3 {
            return Err(JobError::retry("payment provider timed out"));
        }
        Ok(())
    }
}

/// Always fails: after its attempts it rests in the dead set.
#[derive(Serialize, Deserialize)]
pub struct ImportFeed {
    pub url: String,
}

impl Job for ImportFeed {
    const NAME: &'static str = "import_feed";
    const MAX_ATTEMPTS: u32 = 2;

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Err(JobError::retry(format!("{} is not a valid feed", self.url)))
    }
}

/// The worker: every job type above (their queues are served), the cron
/// entry, and the mailer they share.
pub fn worker(client: Client, mailer: Mailer) -> WorkerBuilder<Mailer> {
    Worker::builder(client)
        .state(mailer)
        .register::<SendEmail>()
        .register::<BuildReport>()
        .register::<ChargeCard>()
        .register::<ImportFeed>()
        .cron("0 * * * * *", CleanUpSessions)
}
