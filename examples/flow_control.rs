//! Flow control in one process: a cron entry, unique (debounced) jobs,
//! cancellation, expiry, progress and results, a queue rate limit, and
//! keyed flow control (one sync per account at a time, 2 per second).
//! See docs/flow-control.md.
//!
//! Run with a Redis at hand:
//! `JOBQUEUE_REDIS_URL=redis://127.0.0.1:6379 cargo run -p jobqueue-examples --example flow_control`

use std::time::Duration;

use jobqueue::Worker;
use jobqueue::cron::{CronEntry, Misfire};
use jobqueue::{
    Client, ClientConfig, Job, JobContext, JobError, KeyLimits, QueueLimits, RateLimit, UniqueMode,
};
use serde::{Deserialize, Serialize};

/// Key prefix of the example, so it never touches other data in your Redis.
const PREFIX: &str = "jqflow";

/// Runs every two seconds (cron).
#[derive(Serialize, Deserialize)]
struct Heartbeat;

impl Job for Heartbeat {
    const NAME: &'static str = "heartbeat";
    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        tracing::info!(job = %ctx.id(), "cron tick");
        Ok(())
    }
}

/// Reports progress and leaves a result.
#[derive(Serialize, Deserialize)]
struct BuildReport {
    pages: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct ReportSummary {
    pages: u32,
}

impl Job for BuildReport {
    const NAME: &'static str = "build_report";
    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        for page in 1..=self.pages {
            if ctx.is_cancelled() {
                return Err(JobError::permanent("cancelled"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            let percent = (page * 100 / self.pages) as u8;
            ctx.set_progress(percent, format!("page {page} of {}", self.pages))
                .await?;
        }
        ctx.set_result(&ReportSummary { pages: self.pages })?;
        Ok(())
    }
}

/// Debounced per account; rate limited on its queue.
#[derive(Serialize, Deserialize)]
struct Reindex {
    account: u64,
}

impl Job for Reindex {
    const NAME: &'static str = "reindex";
    const QUEUE: &'static str = "search";
    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        tracing::info!(account = self.account, "reindexed");
        Ok(())
    }
}

/// Serialized per account by its flow key.
#[derive(Serialize, Deserialize)]
struct SyncAccount {
    account: u64,
    step: u32,
}

impl Job for SyncAccount {
    const NAME: &'static str = "sync_account";
    fn flow_key(&self) -> Option<String> {
        Some(format!("account:{}", self.account))
    }
    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        tracing::info!(account = self.account, step = self.step, "synced");
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let url =
        std::env::var("JOBQUEUE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let client = Client::with_config(ClientConfig::new(url).prefix(PREFIX)).await?;
    let admin = client.admin();

    // At most 5 reindexes per second, across every worker.
    admin
        .set_queue_limits(
            "search",
            QueueLimits {
                max_running: None,
                rate: Some(RateLimit::bucket(5, Duration::from_secs(1))),
            },
        )
        .await?;

    let worker = Worker::builder(client.clone())
        .register::<Heartbeat>()
        .register::<BuildReport>()
        .register::<Reindex>()
        .register::<SyncAccount>()
        .cron_entry(
            CronEntry::new("heartbeat", "*/2 * * * * *", &Heartbeat)?.misfire(Misfire::Skip),
        )
        .start()
        .await?;

    // Ten edits of one account in a row: one reindex, a second after the last.
    for _ in 0..10 {
        client
            .job(Reindex { account: 7 })
            .delay(Duration::from_secs(1))
            .unique_for(Duration::from_secs(60))
            .unique_key("reindex:7")
            .on_duplicate(UniqueMode::Debounce)
            .enqueue()
            .await?;
    }
    // Twenty other accounts: started at 5 per second.
    for account in 100..120 {
        client.enqueue(Reindex { account }).await?;
    }

    // Keyed flow control: each account's syncs run one at a time, in order,
    // at most 2 per second per account; accounts run side by side.
    admin
        .set_key_limits(
            "default",
            "account",
            KeyLimits {
                max_running: Some(1),
                rate: Some(RateLimit::bucket(2, Duration::from_secs(1))),
            },
        )
        .await?;
    for step in 0..3 {
        for account in [1, 2] {
            client.enqueue(SyncAccount { account, step }).await?;
        }
    }
    for key in admin.flow_keys("default", 10).await? {
        println!(
            "{}: {} waiting, {} running",
            key.key, key.waiting, key.running
        );
    }

    // Progress and a result.
    let report = client
        .job(BuildReport { pages: 10 })
        .track()
        .enqueue()
        .await?;
    tokio::time::sleep(Duration::from_millis(450)).await;
    if let Some(status) = client.status(report).await? {
        println!("report: {:?} {:?}", status.state, status.progress);
    }
    let summary: Option<ReportSummary> =
        client.wait_result(report, Duration::from_secs(10)).await?;
    println!("report result: {summary:?}");

    // Cancel a running job, and a job that expires before it can start.
    let long = client.job(BuildReport { pages: 100 }).enqueue().await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("cancel: {:?}", client.cancel("default", long).await?);
    client
        .job(BuildReport { pages: 1 })
        .delay(Duration::from_secs(2))
        .expires_in(Duration::from_secs(1))
        .enqueue()
        .await?;

    tokio::time::sleep(Duration::from_secs(5)).await;
    for entry in admin.cron_entries().await? {
        println!(
            "cron {}: {} next {:?}, last result {:?}",
            entry.name,
            entry.schedule,
            entry.next_run,
            entry.last_result.map(|r| r.outcome)
        );
    }
    println!(
        "cancelled: {}, expired: {}",
        admin.cancelled_count("default").await?,
        admin.expired_count("default").await?
    );
    worker.shutdown().await;
    admin.clear_queue_limits("search").await?;
    admin.clear_key_limits("default", "account").await?;
    admin.remove_cron("default", "heartbeat").await?;
    Ok(())
}
