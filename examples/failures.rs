//! Failures: a flaky job retried with backoff, a poison job dead-lettered,
//! and the dead job retried from the operator API after "deploying a fix".
//!
//! Run it (Redis 7+ at `JOBQUEUE_REDIS_URL`, default `redis://127.0.0.1:6379`):
//!
//! ```text
//! cargo run -p jobqueue-examples --example failures
//! ```
//!
//! What happens, in about ten seconds:
//!
//! 1. `charge_card` fails twice (a payment gateway timing out) and
//!    succeeds on its third attempt, 1 s and 2 s later (exponential backoff).
//! 2. `import_csv` fails on every attempt (a bug in the importer); after
//!    its 3 attempts it lands in the dead set with its error history and,
//!    as per-job logs are on, what each attempt logged (printed too).
//! 3. A payload that does not match its job type (written by an old
//!    producer) is dead-lettered at once, with a readable error.
//! 4. The importer bug is "fixed" and the dead import is retried with
//!    `client.admin().retry(…)` — the operator API the dashboard and the
//!    `jobqueue` CLI are built on (from a shell:
//!    `jobqueue retry --all-dead --queue imports`) — and succeeds.
//! 5. The imports queue has its live events and its history on: the
//!    import's whole life is printed from the event stream (from a shell:
//!    `jobqueue events --queue imports`), and "did it run today?" is
//!    answered from the history (`jobqueue history --queue imports search`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jobqueue::admin::{EventStart, HistoryFilter};
use jobqueue::wire::record::{Envelope, encode_record};
use jobqueue::{BackoffPolicy, Client, ClientConfig, Job, JobContext, JobError, JobSet, JobState};
use jobqueue::{JobLogLayer, JobLogs, Worker, WorkerBuilder};
use serde::{Deserialize, Serialize};
use tracing_subscriber::prelude::*;
use uuid::Uuid;

/// Stands for a deploy of the importer fix.
static IMPORTER_FIXED: AtomicBool = AtomicBool::new(false);

/// A job that fails while the payment gateway times out.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChargeCard {
    pub order_id: u64,
}

impl Job for ChargeCard {
    const NAME: &'static str = "charge_card";
    const QUEUE: &'static str = "billing";

    /// 1 s, 2 s, 4 s, … at most 1 min (the default starts at 15 s and grows
    /// to hours, for production).
    fn retry_delay(retry: u32) -> Duration {
        BackoffPolicy::exponential(Duration::from_secs(1), 2.0, Duration::from_secs(60))
            .delay(retry)
    }

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        if ctx.attempt() < 3 {
            return Err(JobError::retry(format!(
                "payment gateway timed out (attempt {})",
                ctx.attempt()
            )));
        }
        tracing::info!(
            order = self.order_id,
            attempt = ctx.attempt(),
            "card charged"
        );
        Ok(())
    }
}

/// A job that fails every time until its bug is fixed: a poison job.
#[derive(Debug, Serialize, Deserialize)]
pub struct ImportCsv {
    pub file: String,
}

impl Job for ImportCsv {
    const NAME: &'static str = "import_csv";
    const QUEUE: &'static str = "imports";
    const MAX_ATTEMPTS: u32 = 3;

    fn retry_delay(_retry: u32) -> Duration {
        Duration::from_millis(500)
    }

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        // Kept in the job's log of this attempt (per-job logs, see `worker`).
        tracing::info!(file = %self.file, attempt = ctx.attempt(), "importing");
        if !IMPORTER_FIXED.load(Ordering::Acquire) {
            return Err(JobError::retry(format!(
                "{}: line 1: unexpected column 'e-mail'",
                self.file
            )));
        }
        tracing::info!(file = %self.file, "imported");
        Ok(())
    }
}

/// The worker of this example (also used by its tests), with per-job
/// logs on: each attempt's `tracing` events are kept with the job (when
/// the process's subscriber has a `JobLogLayer`, as `main` installs).
pub fn worker(client: Client) -> WorkerBuilder {
    Worker::builder(client)
        .register::<ChargeCard>()
        .register::<ImportCsv>()
        .job_logs(JobLogs::new().max_lines(50))
}

/// Stands for deploying the importer fix.
pub fn deploy_importer_fix() {
    IMPORTER_FIXED.store(true, Ordering::Release);
}

/// What the example saw.
#[derive(Debug)]
pub struct Summary {
    pub charge: Uuid,
    pub import: Uuid,
    pub bad_payload: Uuid,
    /// The dead import's error messages, one per attempt.
    pub import_errors: Vec<String>,
    /// Why the bad payload is dead.
    pub bad_payload_error: String,
    /// The import's lifecycle events, in order (`enqueued`, `started`, …).
    pub import_events: Vec<&'static str>,
    /// The import's history entries today: one per time it finished.
    pub import_outcomes: Vec<String>,
}

/// Enqueues an `import_csv` job whose payload misses its field, as a
/// producer built against an older job type would.
pub async fn enqueue_bad_payload(client: &Client) -> Result<Uuid, jobqueue::Error> {
    let envelope = Envelope::new(ImportCsv::NAME);
    let id = envelope.id;
    let record = encode_record(&envelope, br#"{"path":"old.csv"}"#)?;
    let queue = client.store().queue_keys(ImportCsv::QUEUE)?;
    client.store().register_queues([ImportCsv::QUEUE]).await?;
    client.store().enqueue_ready(&queue, &record).await?;
    Ok(id)
}

/// Polls until job `id` of `queue` is in `state`, for at most `limit`.
async fn wait_for_state(
    client: &Client,
    queue: &str,
    id: Uuid,
    state: JobState,
    limit: Duration,
) -> Result<jobqueue::JobInfo, Box<dyn std::error::Error>> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(info) = client.admin().job(queue, id).await?
            && info.state == state
        {
            return Ok(info);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("job {id} did not reach {state:?} within {limit:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls until `queue` has nothing ready, running or waiting for a retry.
async fn wait_until_settled(
    client: &Client,
    queue: &str,
    limit: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let info = client.admin().queue(queue).await?;
        if info.ready + info.active + info.retry + info.scheduled == 0 {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("queue {queue} did not settle within {limit:?}: {info:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The whole story; returns what it saw.
pub async fn run(client: Client) -> Result<Summary, Box<dyn std::error::Error>> {
    let admin = client.admin();
    // Watch the imports queue (off by default): its live events, and the
    // history of its finished jobs (`jobqueue events --queue imports
    // --enable`, `jobqueue history --queue imports enable`, or the
    // dashboard's "history and events" page do the same).
    client.store().register_queues([ImportCsv::QUEUE]).await?;
    admin
        .set_event_stream(ImportCsv::QUEUE, Some(10_000))
        .await?;
    admin
        .set_history(ImportCsv::QUEUE, Some(100_000), None)
        .await?;
    let charge = client.enqueue(ChargeCard { order_id: 42 }).await?;
    let import = client
        .enqueue(ImportCsv {
            file: "customers.csv".into(),
        })
        .await?;
    let bad_payload = enqueue_bad_payload(&client).await?;
    println!(
        "enqueued charge_card {charge}, import_csv {import} and a malformed import_csv {bad_payload}"
    );

    let running = worker(client.clone()).concurrency(4).start().await?;

    let dead = wait_for_state(
        &client,
        "imports",
        import,
        JobState::Dead,
        Duration::from_secs(30),
    )
    .await?;
    println!("\nimport_csv is dead after {} attempts:", dead.attempt);
    for error in &dead.errors {
        println!("  attempt {}: {}", error.attempt, error.message);
    }
    // What each attempt logged (also on the job page, and from a shell:
    // `jobqueue job <id> --logs`).
    for log in admin.job_logs("imports", import).await? {
        println!("  log of attempt {}:", log.attempt);
        for line in &log.lines {
            println!("    {line}");
        }
    }
    let bad = wait_for_state(
        &client,
        "imports",
        bad_payload,
        JobState::Dead,
        Duration::from_secs(30),
    )
    .await?;
    let bad_payload_error = bad
        .errors
        .last()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    println!("the malformed payload is dead at once: {bad_payload_error}");

    wait_until_settled(&client, "billing", Duration::from_secs(30)).await?;
    println!("\ncharge_card succeeded on its third attempt (it is no longer in any set)");

    deploy_importer_fix();
    let retried = admin.retry("imports", JobSet::Dead, &[import]).await?;
    println!("importer fixed; retried {retried} dead job from the operator API");
    wait_until_settled(&client, "imports", Duration::from_secs(30)).await?;
    println!("import_csv succeeded after the retry");

    running.shutdown().await;

    // Its whole life, from the queue's event stream.
    let mut import_events = Vec::new();
    let mut start = EventStart::Oldest;
    loop {
        let page = admin.events_after("imports", start, 1000).await?;
        let Some(next) = page.next.filter(|_| !page.events.is_empty()) else {
            break;
        };
        for event in page.events.iter().filter(|e| e.job_id == import) {
            import_events.push(event.kind.name());
        }
        start = EventStart::After(next);
    }
    println!(
        "
import_csv's events: {}",
        import_events.join(" → ")
    );
    // Did it run today? The history says when and how it finished.
    let today = chrono::Utc::now().date_naive();
    let filter = HistoryFilter {
        job_id: Some(import.to_string()),
        ..HistoryFilter::default()
    };
    let page = admin
        .history_search("imports", today, &filter, None, 10_000)
        .await?;
    for entry in &page.entries {
        println!(
            "  finished {} at {} after {} runs{}",
            entry.outcome,
            entry.finished_at,
            entry.attempts,
            entry
                .error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
    let import_outcomes = page.entries.iter().map(|e| e.outcome.clone()).collect();

    let imports = admin.queue("imports").await?;
    let billing = admin.queue("billing").await?;
    println!(
        "\nbilling: {} processed, {} failed attempts; imports: {} processed, {} failed attempts, {} dead",
        billing.processed, billing.failed, imports.processed, imports.failed, imports.dead
    );
    Ok(Summary {
        charge,
        import,
        bad_payload,
        import_errors: dead.errors.iter().map(|e| e.message.clone()).collect(),
        bad_payload_error,
        import_events,
        import_outcomes,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The filter applies to the printed output only (per layer): the
    // capture layer of per-job logs sees every event of a job.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,jobqueue_worker=warn".into());
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .with_filter(filter),
        )
        .with(JobLogLayer::new())
        .init();
    let client = Client::with_config(ClientConfig::from_env()).await?;
    run(client).await?;
    Ok(())
}
