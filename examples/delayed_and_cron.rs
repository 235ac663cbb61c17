//! Delayed jobs, a cron job and a periodic job: reminders scheduled hours ahead, and a
//! clean-up that runs every few seconds.
//!
//! Run it (Redis 7+ at `JOBQUEUE_REDIS_URL`, default `redis://127.0.0.1:6379`):
//!
//! ```text
//! cargo run -p jobqueue-examples --example delayed_and_cron
//! ```
//!
//! It schedules two reminders (in 2 hours, and tomorrow at 09:00 UTC), lists
//! them from the operator API, then runs a worker for 25 seconds while a
//! periodic job ticks every 5 seconds.
//!
//! It also registers a cron entry, a digest every 10 seconds
//! (`worker.cron(..)`, see docs/flow-control.md), and shows the other way to
//! run periodic work, a job that enqueues its own next run. Two things make that safe: each run enqueues
//! the *next tick on the grid* (`tick + interval`, not `now + interval`), so
//! it does not drift; and each tick is claimed once in Redis (`SET NX`), so
//! a duplicate — the chain seeded by two processes, or a run repeated after
//! a worker died (delivery is at-least-once) — does nothing instead of
//! doubling the chain.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveTime, Utc};
use jobqueue::{Client, ClientConfig, Job, JobContext, JobError, JobSet};
use jobqueue::{Worker, WorkerBuilder};
use serde::{Deserialize, Serialize};

/// Jobs reach shared resources through statics: jobqueue does not inject
/// application state into jobs yet.
static JOBS: OnceLock<Client> = OnceLock::new();

fn jobs() -> Result<&'static Client, JobError> {
    JOBS.get()
        .ok_or_else(|| JobError::retry("the job client is not set up"))
}

/// A reminder for a user, sent when it is due.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendReminder {
    pub user_id: u64,
    pub text: String,
}

impl Job for SendReminder {
    const NAME: &'static str = "send_reminder";
    const QUEUE: &'static str = "reminders";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        tracing::info!(job = %ctx.id(), user = self.user_id, "reminder: {}", self.text);
        Ok(())
    }
}

/// A periodic job: runs at every `tick` on a grid of `interval_secs`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CleanExpiredSessions {
    /// The tick this run belongs to, Unix seconds (a multiple of the interval).
    pub tick: i64,
    pub interval_secs: i64,
}

impl Job for CleanExpiredSessions {
    const NAME: &'static str = "clean_expired_sessions";
    const QUEUE: &'static str = "periodic";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let jobs = jobs()?;
        if !claim_tick(jobs, Self::NAME, self.tick).await? {
            tracing::info!(tick = self.tick, "tick already ran; duplicate dropped");
            return Ok(());
        }
        // Enqueue the next run first: if this one fails and retries, the
        // schedule keeps going.
        let next = CleanExpiredSessions {
            tick: self.tick + self.interval_secs,
            interval_secs: self.interval_secs,
        };
        jobs.enqueue_at(tick_time(next.tick), next).await?;
        tracing::info!(job = %ctx.id(), tick = self.tick, "cleaned expired sessions");
        Ok(())
    }
}

/// Marks `tick` of job type `name` as run; false when it already was.
/// The claim expires after a day: only duplicates arriving close together
/// need catching.
async fn claim_tick(jobs: &Client, name: &str, tick: i64) -> Result<bool, JobError> {
    let key = format!("{}:example:tick:{name}:{tick}", jobs.config().prefix_str());
    let claimed: Option<String> = redis::cmd("SET")
        .arg(&key)
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(24 * 3600)
        .query_async(&mut jobs.store().connection())
        .await?;
    Ok(claimed.is_some())
}

fn tick_time(tick: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(tick, 0).unwrap_or_else(Utc::now)
}

/// Starts the periodic chain at the next tick on the grid. Safe to call
/// from every process at start-up: duplicate ticks are dropped when they run.
pub async fn seed_periodic(client: &Client, interval: Duration) -> Result<(), jobqueue::Error> {
    let interval_secs = i64::try_from(interval.as_secs().max(1)).unwrap_or(60);
    let now = Utc::now().timestamp();
    let tick = (now / interval_secs + 1) * interval_secs;
    client
        .enqueue_at(
            tick_time(tick),
            CleanExpiredSessions {
                tick,
                interval_secs,
            },
        )
        .await?;
    Ok(())
}

/// Schedules the two reminders of the example.
pub async fn schedule_reminders(client: &Client) -> Result<(), jobqueue::Error> {
    client
        .enqueue_in(
            Duration::from_secs(2 * 3600),
            SendReminder {
                user_id: 7,
                text: "your trial ends in two hours".into(),
            },
        )
        .await?;
    let tomorrow_9am = (Utc::now().date_naive() + Days::new(1))
        .and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default())
        .and_utc();
    client
        .enqueue_at(
            tomorrow_9am,
            SendReminder {
                user_id: 7,
                text: "good morning: your weekly report is ready".into(),
            },
        )
        .await?;
    Ok(())
}

/// A cron job: the digest, every 10 seconds here (a real app would say
/// `"0 0 8 * * *"`, every day at 08:00). However many workers run this
/// entry, each tick is enqueued exactly once.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendDigest {}

impl Job for SendDigest {
    const NAME: &'static str = "send_digest";
    const QUEUE: &'static str = "periodic";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        tracing::info!(job = %ctx.id(), "digest sent (cron tick)");
        Ok(())
    }
}

/// The digest's cron expression (seconds field first).
pub const DIGEST_SCHEDULE: &str = "*/10 * * * * *";

/// The worker of this example (also used by its tests).
pub fn worker(client: Client) -> WorkerBuilder {
    Worker::builder(client)
        .register::<SendReminder>()
        .register::<CleanExpiredSessions>()
        .register::<SendDigest>()
        .cron(DIGEST_SCHEDULE, SendDigest {})
}

/// Makes `client` the one jobs use. Call once per process.
pub fn set_job_client(client: &Client) {
    let _ = JOBS.set(client.clone());
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let client = Client::with_config(ClientConfig::from_env()).await?;
    set_job_client(&client);

    schedule_reminders(&client).await?;
    for reminder in client
        .admin()
        .list("reminders", JobSet::Scheduled, 0, 10)
        .await?
    {
        let at = reminder.at.map(|at| at.to_rfc3339()).unwrap_or_default();
        println!("scheduled {} for {at}: {}", reminder.id, reminder.payload);
    }

    seed_periodic(&client, Duration::from_secs(5)).await?;
    println!(
        "a periodic clean-up runs every 5 s and a cron digest every 10 s; the worker runs for 25 s"
    );
    worker(client)
        .run_until(tokio::time::sleep(Duration::from_secs(25)))
        .await?;
    Ok(())
}
