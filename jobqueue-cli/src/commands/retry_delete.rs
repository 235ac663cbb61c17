//! `jobqueue retry|delete`: one job by id, every keyed job, or every job
//! of a set that matches the filters. Every one that changed something is
//! written to the audit log.

use std::io::IsTerminal;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use jobqueue_core::{BulkAction, Client, JobSet, JobState};
use serde::Serialize;
use uuid::Uuid;

use super::audit::audit;
use super::exit::{CliError, CliResult, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_USAGE};
use super::filter::FilterArgs;
use super::output::{count, json};

/// Which jobs `retry` or `delete` act on.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// One job id (scheduled, retrying, dead or waiting; for `delete`
    /// also keyed).
    #[arg(required_unless_present_any = ["all_dead", "all_retry", "all_scheduled", "all_keyed"])]
    pub id: Option<Uuid>,
    /// Every dead job of the queue (narrow it with --type / --error).
    #[arg(long, conflicts_with_all = ["id", "all_retry", "all_scheduled"])]
    pub all_dead: bool,
    /// Every job waiting for a retry.
    #[arg(long, conflicts_with_all = ["id", "all_scheduled"])]
    pub all_retry: bool,
    /// Every scheduled job (retry = run now).
    #[arg(long, conflicts_with_all = ["id", "all_keyed"])]
    pub all_scheduled: bool,
    /// Every keyed job waiting in its flow key's list (`delete` only; the
    /// keys the keyed listing covers: the first 1000 with work).
    #[arg(long, conflicts_with_all = ["id", "all_dead", "all_retry"])]
    pub all_keyed: bool,
    /// The queue (default: for an id, look in every queue; else "default").
    #[arg(long, short)]
    pub queue: Option<String>,
    /// Filters for the --all-* forms.
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// What a retry or delete did: the queue, how many jobs, and the audit
/// target after the queue's name.
struct Done {
    queue: String,
    count: u64,
    target: String,
}

#[derive(Serialize)]
struct Outcome<'a> {
    action: &'a str,
    queue: &'a str,
    count: u64,
}

/// `retry` or `delete`.
pub(crate) async fn run(
    client: &Client,
    args: &SelectArgs,
    action: BulkAction,
    as_json: bool,
) -> CliResult {
    let verb = match action {
        BulkAction::Retry => "retry",
        BulkAction::Delete => "delete",
    };
    let done = match args.id {
        Some(id) => one_job(client, args.queue.as_deref(), id, action).await?,
        None if args.all_keyed => all_keyed(client, args, action, as_json).await?,
        None => all_matching(client, args, action, as_json).await?,
    };
    if done.count > 0 {
        let target = format!("{} {}", done.queue, done.target);
        audit(client, verb, &target, done.count).await;
    }
    if as_json {
        return json(&Outcome {
            action: verb,
            queue: &done.queue,
            count: done.count,
        });
    }
    println!(
        "{verb}: {} job(s) in queue {}",
        count(done.count),
        done.queue
    );
    Ok(())
}

/// The job `id` (in `queue`, or looked for in every queue), wherever it
/// waits: a keyed job can only be deleted.
async fn one_job(
    client: &Client,
    queue: Option<&str>,
    id: Uuid,
    action: BulkAction,
) -> Result<Done, CliError> {
    let admin = client.admin();
    let job = match queue {
        Some(queue) => admin.job(queue, id).await?,
        None => admin.find_job(id).await?,
    }
    .ok_or_else(|| {
        CliError::new(
            EXIT_NOT_FOUND,
            format!("no scheduled, retrying or dead job {id}"),
        )
    })?;
    let count = if job.state == JobState::Ready && job.flow_key.is_some() {
        match action {
            BulkAction::Delete => admin.delete_keyed(&job.queue, &[id]).await?,
            BulkAction::Retry => return Err(keyed_retry_refused()),
        }
    } else {
        let set = match job.state {
            JobState::Scheduled => JobSet::Scheduled,
            JobState::Retry => JobSet::Retry,
            JobState::Dead => JobSet::Dead,
            JobState::Waiting => JobSet::Waiting,
            other => {
                return Err(CliError::new(
                    EXIT_REFUSED,
                    format!(
                        "job {id} is {}: only scheduled, retrying, dead and waiting jobs can be \
                         retried or deleted",
                        other.as_str()
                    ),
                ));
            }
        };
        match action {
            BulkAction::Retry => admin.retry(&job.queue, set, &[id]).await?,
            BulkAction::Delete => admin.delete(&job.queue, set, &[id]).await?,
        }
    };
    Ok(Done {
        queue: job.queue,
        count,
        target: id.to_string(),
    })
}

/// `--all-keyed`: every keyed job of the queue that matches the filters.
async fn all_keyed(
    client: &Client,
    args: &SelectArgs,
    action: BulkAction,
    as_json: bool,
) -> Result<Done, CliError> {
    if action == BulkAction::Retry {
        return Err(keyed_retry_refused());
    }
    let queue = args.queue.clone().unwrap_or_else(|| "default".to_owned());
    let bar = progress_bar(as_json);
    let count = client
        .admin()
        .delete_keyed_matching(&queue, &args.filter.to_filter(), |seen, total| {
            bar.set_length(total);
            bar.set_position(seen);
        })
        .await?;
    bar.finish_and_clear();
    Ok(Done {
        queue,
        count,
        target: "all keyed matching".to_owned(),
    })
}

/// `--all-dead`, `--all-retry`, `--all-scheduled`: every job of the set
/// that matches the filters.
async fn all_matching(
    client: &Client,
    args: &SelectArgs,
    action: BulkAction,
    as_json: bool,
) -> Result<Done, CliError> {
    let set = if args.all_dead {
        JobSet::Dead
    } else if args.all_retry {
        JobSet::Retry
    } else if args.all_scheduled {
        JobSet::Scheduled
    } else {
        return Err(CliError::new(
            EXIT_USAGE,
            "give a job id or --all-dead / --all-retry / --all-scheduled / --all-keyed",
        ));
    };
    let queue = args.queue.clone().unwrap_or_else(|| "default".to_owned());
    let bar = progress_bar(as_json);
    let filter = args.filter.to_filter();
    let count = client
        .admin()
        .apply_matching(&queue, set, &filter, action, |seen, total| {
            bar.set_length(total);
            bar.set_position(seen);
        })
        .await?;
    bar.finish_and_clear();
    Ok(Done {
        queue,
        count,
        target: format!("all {:?} matching", set).to_lowercase(),
    })
}

fn keyed_retry_refused() -> CliError {
    CliError::new(
        EXIT_REFUSED,
        "keyed jobs cannot be retried: they are ready and run as their flow key's limits \
         allow; delete or cancel them",
    )
}

/// A progress bar on stderr for a terminal, hidden otherwise (and with
/// `--json`).
fn progress_bar(hidden: bool) -> ProgressBar {
    if hidden || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} jobs looked at ({eta} left)")
    {
        bar.set_style(style);
    }
    bar
}
