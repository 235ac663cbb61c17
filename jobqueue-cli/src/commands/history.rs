//! `jobqueue history`: a queue's history of finished jobs — `enable`
//! (`--cap`, `--max`) and `disable` it (written to the audit log),
//! `status`, `search` one day ("did job X, or a job tagged Y, run on date
//! D?"), and `export` it as NDJSON.
//!
//! `export` without `--since` is the registered exporter: it writes every
//! entry not yet written (to `--out`, appended, or stdout), makes the file
//! durable (`fsync`), then moves the queue's export cursor, so the history
//! never trims an entry before it is written (up to the hard cap, past
//! which a loss is counted); `--follow` keeps exporting as jobs finish.
//! With `--since` (and `--until`) it writes that time range once and
//! leaves the cursor alone.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use jobqueue_core::Client;
use jobqueue_core::admin::{DEFAULT_HISTORY_BUDGET, HistoryEntry, HistoryFilter, escape_hidden};
use jobqueue_core::store::commands::observe::DEFAULT_HISTORY_CAP;
use jobqueue_dashboard::actions::watch::{WatchView, apply_watch};

use super::audit::audit;
use super::exit::{CliError, CliResult, EXIT_ERROR, EXIT_USAGE};
use super::known_queue::known_queue;
use super::output::{count, json, table};

/// Options of `jobqueue history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The queue.
    #[arg(long)]
    pub queue: String,
    /// What to do.
    #[command(subcommand)]
    pub command: HistoryCommand,
}

/// Subcommands of `jobqueue history`.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Turn the history on.
    Enable {
        /// Entries kept.
        #[arg(long, default_value_t = DEFAULT_HISTORY_CAP)]
        cap: u64,
        /// Most entries kept while a registered exporter is behind
        /// (default ten times --cap).
        #[arg(long)]
        max: Option<u64>,
    },
    /// Turn the history off (what it holds stays).
    Disable,
    /// Counters, what is kept, the exporter's progress.
    Status,
    /// Entries of one day (UTC) matching the filters.
    Search {
        /// The day, YYYY-MM-DD (default today).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// A job id or id prefix.
        #[arg(long)]
        job: Option<String>,
        /// A tag the job carried.
        #[arg(long)]
        tag: Option<String>,
        /// The job type.
        #[arg(long = "type")]
        job_type: Option<String>,
        /// succeeded, dead, cancelled or expired.
        #[arg(long)]
        outcome: Option<String>,
        /// Most entries read (the search pages through the whole day).
        #[arg(long, default_value_t = 1_000_000)]
        budget: usize,
    },
    /// Write entries as NDJSON (see the module docs).
    Export {
        /// Append to this file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// A one-off export of the range from this time (RFC 3339 or
        /// YYYY-MM-DD); the cursor is left alone.
        #[arg(long)]
        since: Option<String>,
        /// End of the one-off range (default now).
        #[arg(long, requires = "since")]
        until: Option<String>,
        /// Keep exporting as jobs finish (the registered exporter).
        #[arg(long, conflicts_with = "since")]
        follow: bool,
    },
}

/// `jobqueue history`.
pub(crate) async fn history(client: &Client, args: &HistoryArgs, as_json: bool) -> CliResult {
    known_queue(client, &args.queue).await?;
    let queue = args.queue.as_str();
    let admin = client.admin();
    match &args.command {
        HistoryCommand::Enable { cap, max } => switch(client, queue, Some(*cap), *max).await,
        HistoryCommand::Disable => switch(client, queue, None, None).await,
        HistoryCommand::Status => {
            let status = admin.history_status(queue).await?;
            if as_json {
                return json(&status);
            }
            let settings = &status.settings;
            println!(
                "{queue}: history {}; {} kept{}; {} appended, {} lost",
                settings
                    .history_cap
                    .map_or("off".to_owned(), |cap| format!("on (cap {cap})")),
                count(status.kept),
                status
                    .oldest
                    .map(|at| format!(" since {}", jobqueue_core::json_time::format(&at)))
                    .unwrap_or_default(),
                count(settings.history_added),
                count(settings.history_lost),
            );
            match (&status.export_cursor, status.unexported) {
                (Some(cursor), Some(unexported)) => println!(
                    "exporter registered at {cursor}; {} not written yet",
                    count(unexported)
                ),
                _ => println!("no exporter registered"),
            }
            Ok(())
        }
        HistoryCommand::Search {
            date,
            job,
            tag,
            job_type,
            outcome,
            budget,
        } => {
            let filter = HistoryFilter {
                job_id: job.clone(),
                tag: tag.clone(),
                job_type: job_type.clone(),
                outcome: outcome.clone(),
            };
            let date = date.unwrap_or_else(|| Utc::now().date_naive());
            search(client, queue, date, &filter, *budget, as_json).await
        }
        HistoryCommand::Export {
            out,
            since,
            until,
            follow,
        } => {
            let mut writer = output(out.as_ref())?;
            match since {
                Some(since) => {
                    let from = parse_time(since)?;
                    let to = until
                        .as_deref()
                        .map(parse_time)
                        .transpose()?
                        .unwrap_or_else(Utc::now);
                    export_range(client, queue, from, to, &mut writer).await
                }
                None => export_registered(client, queue, *follow, &mut writer).await,
            }
        }
    }
}

async fn switch(client: &Client, queue: &str, cap: Option<u64>, max: Option<u64>) -> CliResult {
    let admin = client.admin();
    let mut view = WatchView::from(&admin.watch_settings(queue).await?);
    view.history_cap = cap;
    view.history_max = max;
    let (action, now) = apply_watch(&admin, queue, view).await?;
    audit(client, action, &format!("{queue} {}", now.describe()), 0).await;
    println!("{queue}: {}", now.describe());
    Ok(())
}

async fn search(
    client: &Client,
    queue: &str,
    date: NaiveDate,
    filter: &HistoryFilter,
    budget: usize,
    as_json: bool,
) -> CliResult {
    let admin = client.admin();
    let mut found: Vec<HistoryEntry> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut scanned = 0;
    while scanned < budget {
        let step = (budget - scanned).min(DEFAULT_HISTORY_BUDGET);
        let page = admin
            .history_search(queue, date, filter, cursor.as_deref(), step)
            .await?;
        scanned += page.scanned;
        found.extend(page.entries);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    if as_json {
        return json(&found);
    }
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|e| {
            vec![
                jobqueue_core::json_time::format(&e.finished_at),
                e.job_id.clone(),
                escape_hidden(&e.job_type, false).into_owned(),
                e.outcome.clone(),
                e.attempts.to_string(),
                escape_hidden(&e.tags.join(","), false).into_owned(),
                escape_hidden(e.error.as_deref().unwrap_or(""), false).into_owned(),
            ]
        })
        .collect();
    table(
        &[
            "finished",
            "job",
            "type",
            "outcome",
            "runs",
            "tags",
            "last error",
        ],
        &rows,
    );
    eprintln!(
        "{} of {} entries read on {date} match{}",
        count(found.len() as u64),
        count(scanned as u64),
        if cursor.is_some() {
            " (stopped at --budget)"
        } else {
            ""
        }
    );
    Ok(())
}

/// Where export lines go: a file opened for appending, or stdout.
enum Output {
    File(BufWriter<File>),
    Stdout(io::Stdout),
}

impl Output {
    fn write_line(&mut self, line: &str) -> io::Result<()> {
        match self {
            Output::File(file) => writeln!(file, "{line}"),
            Output::Stdout(out) => writeln!(out, "{line}"),
        }
    }

    /// Makes what was written durable before the cursor moves.
    fn sync(&mut self) -> io::Result<()> {
        match self {
            Output::File(file) => {
                file.flush()?;
                file.get_ref().sync_data()
            }
            Output::Stdout(out) => out.flush(),
        }
    }
}

fn output(path: Option<&PathBuf>) -> Result<Output, CliError> {
    match path {
        Some(path) => OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(|file| Output::File(BufWriter::new(file)))
            .map_err(|err| CliError::new(EXIT_ERROR, format!("opening {}: {err}", path.display()))),
        None => Ok(Output::Stdout(io::stdout())),
    }
}

fn io_error(err: io::Error) -> CliError {
    CliError::new(EXIT_ERROR, format!("writing the export: {err}"))
}

fn write_entries(writer: &mut Output, entries: &[HistoryEntry]) -> CliResult {
    for entry in entries {
        let line = serde_json::to_string(entry)
            .map_err(|err| CliError::new(EXIT_ERROR, err.to_string()))?;
        writer.write_line(&line).map_err(io_error)?;
    }
    writer.sync().map_err(io_error)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, CliError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .ok_or_else(|| {
            CliError::new(
                EXIT_USAGE,
                format!("{text:?} is not a time: write 2026-12-01 or 2026-12-01T08:00:00Z"),
            )
        })
}

/// Entries per read of an export.
const EXPORT_PAGE: usize = 1000;

async fn export_range(
    client: &Client,
    queue: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    writer: &mut Output,
) -> CliResult {
    let admin = client.admin();
    let mut after = Some(format!(
        "{}-0",
        from.timestamp_millis().saturating_sub(1).max(0)
    ));
    let end = to.timestamp_millis();
    let mut written = 0u64;
    loop {
        let page = admin
            .history_after(queue, after.as_deref(), EXPORT_PAGE)
            .await?;
        let in_range: Vec<HistoryEntry> = page
            .iter()
            .filter(|e| e.finished_at.timestamp_millis() <= end && entry_ms(e) <= end)
            .cloned()
            .collect();
        write_entries(writer, &in_range)?;
        written += in_range.len() as u64;
        let done = page.len() < EXPORT_PAGE || in_range.len() < page.len();
        after = page.last().map(|e| e.entry_id.clone());
        if done {
            break;
        }
    }
    eprintln!("{queue}: {} entries written", count(written));
    Ok(())
}

fn entry_ms(entry: &HistoryEntry) -> i64 {
    entry
        .entry_id
        .split('-')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0)
}

async fn export_registered(
    client: &Client,
    queue: &str,
    follow: bool,
    writer: &mut Output,
) -> CliResult {
    let admin = client.admin();
    let registered = admin.history_export_register(queue).await?;
    let mut cursor = (registered.cursor != "0-0").then_some(registered.cursor);
    let mut written = 0u64;
    loop {
        let page = admin
            .history_after(queue, cursor.as_deref(), EXPORT_PAGE)
            .await?;
        if let Some(last) = page.last() {
            write_entries(writer, &page)?;
            admin
                .history_export_commit(queue, &last.entry_id, page.len() as u64)
                .await?;
            written += page.len() as u64;
            cursor = Some(last.entry_id.clone());
        }
        if page.len() < EXPORT_PAGE {
            if !follow {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    eprintln!(
        "{queue}: {} entries written; the export cursor is at them",
        count(written)
    );
    Ok(())
}
