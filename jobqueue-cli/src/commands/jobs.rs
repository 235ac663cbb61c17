//! `jobqueue jobs <state>` (and `jobqueue jobs search`, in `search.rs`) and
//! `jobqueue job <id>`.

use clap::Args;
use jobqueue_core::admin::DurableState;
use jobqueue_core::{BrowseState, Client, JobInfo, JobStatus};
use serde::Serialize;

use jobqueue_dashboard::format::{ago, pretty_payload, short, time, variant_name};

use super::exit::{CliError, CliResult, EXIT_NOT_FOUND, EXIT_USAGE};
use super::filter::FilterArgs;
use super::output::{json, table};
use super::search::{SearchArgs, search};

/// Options of `jobqueue jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// ready, keyed (ready jobs waiting in their flow keys' lists), scheduled,
    /// retry, dead, active, waiting, cancelled, expired, sleeping (durable jobs
    /// in a durable sleep) or waiting-for-signal (durable jobs parked for a signal);
    /// or `search` (with --tag, --id, --type, --batch or --field) to find jobs in every state.
    pub state: String,
    /// The queue.
    #[arg(long, short, default_value = "default")]
    pub queue: String,
    /// Filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Jobs per page (at most 1000).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Where to start (the "next cursor" a previous page printed).
    #[arg(long)]
    pub cursor: Option<String>,
    /// What `jobs search` looks for, and what it does with it.
    #[command(flatten)]
    pub search: SearchArgs,
}

/// Options of `jobqueue job`.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// The job id.
    pub id: uuid::Uuid,
    /// Its queue (default: look in every queue).
    #[arg(long, short)]
    pub queue: Option<String>,
    /// Show the job's logs per attempt instead (kept by workers with
    /// per-job logs on); a ready job needs --queue.
    #[arg(long)]
    pub logs: bool,
}

/// `jobqueue jobs`.
pub(crate) async fn jobs(client: &Client, args: &JobsArgs, as_json: bool) -> CliResult {
    if args.limit == 0 {
        return Err(CliError::new(EXIT_USAGE, "--limit must be at least 1"));
    }
    if args.state == "search" {
        return search(
            client,
            &args.queue,
            &args.search,
            args.filter.job_type.as_deref(),
            args.cursor.as_deref(),
            args.limit,
            as_json,
        )
        .await;
    }
    args.search.refuse_outside_search()?;
    let state =
        BrowseState::parse(&args.state).map_err(|e| CliError::new(EXIT_USAGE, e.to_string()))?;
    let cursor = browse_cursor(args.cursor.as_deref())?;
    let page = client
        .admin()
        .browse(
            &args.queue,
            state,
            &args.filter.to_filter(),
            cursor,
            args.limit,
        )
        .await?;
    if as_json {
        return json(&page);
    }
    // A KEY column when a job on the page has a flow key.
    let with_keys = page.jobs.iter().any(|j| j.flow_key.is_some());
    let rows: Vec<Vec<String>> = page
        .jobs
        .iter()
        .map(|j| {
            let mut row = vec![j.id.to_string()];
            if with_keys {
                row.push(j.flow_key.clone().unwrap_or_default());
            }
            row.extend([
                j.job_type
                    .clone()
                    .unwrap_or_else(|| "(undecodable)".to_owned()),
                j.attempt.to_string(),
                ago(j.at.or(j.enqueued_at)),
                short(&last_error(j), 60),
            ]);
            row
        })
        .collect();
    let headers: &[&str] = if with_keys {
        &["ID", "KEY", "TYPE", "ATTEMPT", "WHEN", "LAST ERROR"]
    } else {
        &["ID", "TYPE", "ATTEMPT", "WHEN", "LAST ERROR"]
    };
    table(headers, &rows);
    eprintln!(
        "{} of {} {} jobs shown{}",
        page.jobs.len(),
        page.total,
        state.as_str(),
        page.next_cursor
            .map(|c| format!("; next page: --cursor {c}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// A listing's cursor: a position (0 when none is given).
fn browse_cursor(text: Option<&str>) -> Result<u64, CliError> {
    text.map_or(Ok(0), |text| {
        text.parse::<u64>().map_err(|_| {
            CliError::new(
                EXIT_USAGE,
                format!("--cursor {text:?} is not a page cursor"),
            )
        })
    })
}

/// `jobqueue job`.
pub(crate) async fn job(client: &Client, args: &JobArgs, as_json: bool) -> CliResult {
    if args.logs {
        return super::job_logs::print_job_logs(client, args.id, args.queue.as_deref(), as_json)
            .await;
    }
    let admin = client.admin();
    let found = match &args.queue {
        Some(queue) => admin.job(queue, args.id).await?,
        None => admin.find_job(args.id).await?,
    };
    let status = client.status(args.id).await?;
    let Some(job) = found else {
        // Ready, running and finished jobs are not indexed by id; a
        // tracked one still has its status.
        if let Some(status) = &status {
            if as_json {
                return json(status);
            }
            print_status(status);
            return Ok(());
        }
        return Err(CliError::new(
            EXIT_NOT_FOUND,
            format!(
                "no scheduled, retrying, dead, waiting, cancelled or expired job {} and no status \
                 (it may be ready, running, finished or unknown)",
                args.id
            ),
        ));
    };
    let durable = admin.durable_state(&job.queue, job.id).await?;
    if as_json {
        return json(&JobWithStatus {
            job: &job,
            status: status.as_ref(),
            durable: &durable,
        });
    }
    println!("id        {}", job.id);
    println!(
        "type      {}",
        job.job_type.as_deref().unwrap_or("(undecodable)")
    );
    println!("queue     {}", job.queue);
    println!("state     {:?}", job.state);
    if let Some(key) = &job.flow_key {
        println!("flow key  {key}");
    }
    if !job.tags.is_empty() {
        println!("tags      {}", job.tags.join(" "));
    }
    println!(
        "attempts  {}{}",
        job.attempt,
        job.max_attempts
            .map(|m| format!(" of {m}"))
            .unwrap_or_default()
    );
    println!("enqueued  {}", time(job.enqueued_at));
    println!("at        {}", time(job.at));
    if let Some(err) = &job.decode_error {
        println!("undecodable record: {err}");
    }
    println!("payload:\n{}", pretty_payload(&job.payload));
    for e in &job.errors {
        println!("error (attempt {}, {:?}): {}", e.attempt, e.kind, e.message);
    }
    if let Some(status) = &status {
        print_status(status);
    }
    print_durable(&durable);
    Ok(())
}

/// A durable job's sleep, awaited signal and steps (nothing for others).
fn print_durable(durable: &DurableState) {
    if let Some(sleep) = durable.sleeping(chrono::Utc::now()) {
        println!("sleeping  {} until {}", sleep.name, time(sleep.wakes_at));
    }
    if let Some(wait) = durable.waiting_for() {
        println!(
            "waiting   for signal {} until {}",
            wait.name,
            time(wait.deadline)
        );
    }
    for step in &durable.steps {
        println!(
            "step      {} done {} ({} bytes)",
            step.name,
            time(step.at),
            step.output_bytes
        );
    }
}

/// A job and its status, as `--json` prints it (the API's shape).
#[derive(Serialize)]
struct JobWithStatus<'a> {
    #[serde(flatten)]
    job: &'a JobInfo,
    status: Option<&'a JobStatus>,
    #[serde(skip_serializing_if = "DurableState::is_empty")]
    durable: &'a DurableState,
}

fn print_status(status: &JobStatus) {
    let state = variant_name(&status.state);
    println!("status    {state} (updated {})", time(status.updated_at));
    if let Some(progress) = &status.progress {
        let stale = if progress.stale {
            " (from an interrupted run)"
        } else {
            ""
        };
        println!(
            "progress  {}% {}{stale}",
            progress.percent, progress.message
        );
    }
    if let Some(result) = &status.result {
        println!(
            "result:\n{}",
            serde_json::to_string_pretty(result).unwrap_or_default()
        );
    }
    if let Some(error) = &status.error {
        println!("error     {error}");
    }
}

fn last_error(job: &JobInfo) -> String {
    job.errors
        .last()
        .map(|e| e.message.clone())
        .or_else(|| job.decode_error.clone())
        .unwrap_or_default()
}
