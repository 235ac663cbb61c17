//! Import a CSV in chunks as a batch, then send a report once every row
//! is done: each row is a job of one batch; the report is the batch's
//! `on_complete` callback and reads the batch's counts. A row that cannot
//! be imported dies, and the batch's `on_death` callback alerts once.
//! The rows are also archived by a child batch on another queue
//! (`archive`): the import counts the whole archive as one of its jobs, so
//! the report waits for it and says how it went. See
//! docs/batches-and-workflows.md.
//!
//! Run with a Redis at hand:
//! `JOBQUEUE_REDIS_URL=redis://127.0.0.1:6379 cargo run -p jobqueue-examples --example batch_import`

use std::sync::Mutex;
use std::time::Duration;

use jobqueue::{
    Batch, Client, ClientConfig, Job, JobContext, JobError, StatefulJob, Worker, WorkerBuilder,
    WorkerState,
};
use serde::{Deserialize, Serialize};

/// Key prefix of the example, so it never touches other data in your Redis.
const PREFIX: &str = "jqbatchimport";

/// The queue of the import (its rows and its callbacks).
pub const QUEUE: &str = "imports";

/// The queue of the archive, a child batch of the import.
pub const ARCHIVE_QUEUE: &str = "archive";

/// Rows per chunk added to the batch.
const CHUNK: usize = 4;

/// The file to import: name, email. The row without an email is rejected.
pub const CSV: &str = "name,email
Ada,ada@example.com
Grace,grace@example.com
Linus,
Barbara,barbara@example.com
Edsger,edsger@example.com
Margaret,margaret@example.com
Alan,alan@example.com
Frances,frances@example.com
Tim,tim@example.com
";

/// Imports one row.
#[derive(Debug, Serialize, Deserialize)]
pub struct ImportRow {
    /// Line number in the file.
    pub line: usize,
    /// The person's name.
    pub name: String,
    /// The person's email.
    pub email: String,
}

impl Job for ImportRow {
    const NAME: &'static str = "import_row";
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: u32 = 1;

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        if self.email.is_empty() {
            return Err(JobError::permanent(format!(
                "line {}: {} has no email",
                self.line, self.name
            )));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        Ok(())
    }
}

/// Archives one row (a job of the child batch on [`ARCHIVE_QUEUE`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct ArchiveRow {
    /// Line number in the file.
    pub line: usize,
}

impl Job for ArchiveRow {
    const NAME: &'static str = "archive_row";
    const QUEUE: &'static str = ARCHIVE_QUEUE;

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok(())
    }
}

/// The import worker's state: the client the report reads the batch with.
pub struct ImportApp {
    /// The application's client.
    pub client: Client,
}

/// The rows and alerts (plain jobs) run beside the report on this worker.
impl WorkerState for ImportApp {}

/// The reports sent by this process, oldest first.
pub static SENT_REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The report, sent once the batch completed: it reads the batch's counts.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendReport {
    /// The file imported (the batch's description: the callback is
    /// written before the batch id exists, so the report finds its batch
    /// by it).
    pub file: String,
}

impl StatefulJob for SendReport {
    type State = ImportApp;
    const NAME: &'static str = "send_report";

    async fn perform(&self, ctx: &JobContext<ImportApp>) -> Result<(), JobError> {
        let admin = ctx.state().client.admin();
        let batches = admin
            .batches(QUEUE, None, 0, 50)
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
        let Some(found) = batches.iter().find(|b| b.description == self.file) else {
            return Err(JobError::permanent("the batch of the import is gone"));
        };
        // Read again with its child batches (the archive), each counted
        // as one job of the import.
        let batch = admin
            .batch(QUEUE, found.id)
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
        let archived = batch.children.iter().filter(|c| c.state == "succeeded");
        let children_succeeded = archived.count() as u64;
        let rows = batch.total - batch.children.len() as u64;
        let archive = match batch.children.first() {
            Some(child) => child.state.as_str(),
            None => "none",
        };
        let report = format!(
            "{}: {} rows, {} imported, {} rejected; archive {}",
            self.file,
            rows,
            batch.succeeded - children_succeeded,
            batch.dead,
            archive
        );
        tracing::info!(%report, "import report sent");
        // Where a real app would send an email: the example keeps it in memory.
        if let Ok(mut sent) = SENT_REPORTS.lock() {
            sent.push(report);
        }
        Ok(())
    }
}

/// Alerts once, at the first row that cannot be imported.
#[derive(Debug, Serialize, Deserialize)]
pub struct AlertOps {
    /// The file imported.
    pub file: String,
}

impl Job for AlertOps {
    const NAME: &'static str = "alert_ops";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        tracing::warn!(file = %self.file, "a row of the import was rejected");
        Ok(())
    }
}

/// Parses the CSV and imports it as one batch, added in chunks.
pub async fn import(client: &Client, file: &str, csv: &str) -> Result<Batch, jobqueue::Error> {
    let batch = client
        .batch()
        .queue(QUEUE)
        .description(file)
        .on_complete(SendReport {
            file: file.to_owned(),
        })
        .on_death(AlertOps {
            file: file.to_owned(),
        })
        .create()
        .await?;
    let rows: Vec<ImportRow> = csv
        .lines()
        .enumerate()
        .skip(1)
        .filter_map(|(index, line)| {
            let (name, email) = line.split_once(',')?;
            Some(ImportRow {
                line: index + 1,
                name: name.trim().to_owned(),
                email: email.trim().to_owned(),
            })
        })
        .collect();
    // The archive: a child batch on its own queue, one job of the import.
    batch
        .child()
        .queue(ARCHIVE_QUEUE)
        .description(format!("{file} archive"))
        .enqueue(rows.iter().map(|row| ArchiveRow { line: row.line }))
        .await?;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<ImportRow> = rows.by_ref().take(CHUNK).collect();
        batch.add(chunk).await?;
    }
    batch.seal().await?;
    Ok(batch)
}

/// The worker of the import queue, with the client the report reads with.
pub fn worker(client: Client) -> WorkerBuilder<ImportApp> {
    Worker::builder(client.clone())
        .state(ImportApp { client })
        .queues([QUEUE, ARCHIVE_QUEUE])
        .register::<ImportRow>()
        .register::<ArchiveRow>()
        .register::<SendReport>()
        .register::<AlertOps>()
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
    let batch = import(&client, "people.csv", CSV).await?;
    println!("importing people.csv as batch {}", batch.id());
    let worker = worker(client.clone()).start().await?;
    loop {
        let info = client.admin().batch(QUEUE, batch.id()).await?;
        println!(
            "{}% done: {} imported, {} rejected, {} pending",
            info.percent_done(),
            info.succeeded,
            info.dead,
            info.pending
        );
        if info.callbacks.iter().all(|cb| cb.fired_at_ms.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    worker.shutdown().await;
    Ok(())
}
