//! `jobqueue retry|delete|pause|resume|purge`: every one that changed
//! something is written to the audit log the dashboard shows, as
//! `cli:<user>@<host>`.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use jobqueue_core::admin::AuditEntry;
use jobqueue_core::{BulkAction, Client, JobSet, JobState};
use serde::Serialize;

use super::exit::{CliError, CliResult, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_USAGE};
use super::output::{count, json};
use crate::cli::FilterArgs;

/// Which jobs `retry` or `delete` act on.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// One job id (scheduled, retrying, dead or waiting; for `delete`
    /// also keyed).
    #[arg(required_unless_present_any = ["all_dead", "all_retry", "all_scheduled", "all_keyed"])]
    pub id: Option<uuid::Uuid>,
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

/// A queue name.
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// The queue.
    pub queue: String,
}

/// Options of `purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The queue.
    pub queue: String,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Serialize)]
struct Outcome<'a> {
    action: &'a str,
    queue: &'a str,
    count: u64,
}

/// `retry` or `delete`.
pub async fn select_action(
    client: &Client,
    args: &SelectArgs,
    action: BulkAction,
    as_json: bool,
) -> CliResult {
    let admin = client.admin();
    let verb = match action {
        BulkAction::Retry => "retry",
        BulkAction::Delete => "delete",
    };
    let (queue, moved, target) = if let Some(id) = args.id {
        let job = match &args.queue {
            Some(queue) => admin.job(queue, id).await?,
            None => admin.find_job(id).await?,
        }
        .ok_or_else(|| {
            CliError::new(
                EXIT_NOT_FOUND,
                format!("no scheduled, retrying or dead job {id}"),
            )
        })?;
        if job.state == JobState::Ready && job.flow_key.is_some() {
            let n = match action {
                BulkAction::Delete => admin.delete_keyed(&job.queue, &[id]).await?,
                BulkAction::Retry => return Err(keyed_retry_refused()),
            };
            if n > 0 {
                audit(client, verb, &format!("{} {id}", job.queue), n).await;
            }
            return report(verb, &job.queue, n, as_json);
        }
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
        let n = match action {
            BulkAction::Retry => admin.retry(&job.queue, set, &[id]).await?,
            BulkAction::Delete => admin.delete(&job.queue, set, &[id]).await?,
        };
        (job.queue, n, id.to_string())
    } else if args.all_keyed {
        if action == BulkAction::Retry {
            return Err(keyed_retry_refused());
        }
        let queue = args.queue.clone().unwrap_or_else(|| "default".to_owned());
        let bar = progress_bar(as_json);
        let n = admin
            .delete_keyed_matching(&queue, &args.filter.to_filter(), |seen, total| {
                bar.set_length(total);
                bar.set_position(seen);
            })
            .await?;
        bar.finish_and_clear();
        (queue, n, "all keyed matching".to_owned())
    } else {
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
        let n = admin
            .apply_matching(
                &queue,
                set,
                &args.filter.to_filter(),
                action,
                |seen, total| {
                    bar.set_length(total);
                    bar.set_position(seen);
                },
            )
            .await?;
        bar.finish_and_clear();
        (queue, n, format!("all {:?} matching", set).to_lowercase())
    };
    if moved > 0 {
        audit(client, verb, &format!("{queue} {target}"), moved).await;
    }
    report(verb, &queue, moved, as_json)
}

/// Prints what `retry` or `delete` did.
fn report(verb: &str, queue: &str, moved: u64, as_json: bool) -> CliResult {
    if as_json {
        return json(&Outcome {
            action: verb,
            queue,
            count: moved,
        });
    }
    println!("{verb}: {} job(s) in queue {queue}", count(moved));
    Ok(())
}

fn keyed_retry_refused() -> CliError {
    CliError::new(
        EXIT_REFUSED,
        "keyed jobs cannot be retried: they are ready and run as their flow key's limits \
         allow; delete or cancel them",
    )
}

/// `pause`, `resume`.
pub async fn pause_resume(
    client: &Client,
    args: &QueueArgs,
    pause: bool,
    as_json: bool,
) -> CliResult {
    known_queue(client, &args.queue).await?;
    let admin = client.admin();
    let verb = if pause { "pause" } else { "resume" };
    let changed = if pause {
        admin.pause(&args.queue).await?
    } else {
        admin.resume(&args.queue).await?
    };
    if changed {
        audit(client, verb, &args.queue, 0).await;
    }
    if as_json {
        return json(&Outcome {
            action: verb,
            queue: &args.queue,
            count: 0,
        });
    }
    println!("{verb}d queue {}", args.queue);
    Ok(())
}

/// `purge`.
pub async fn purge(client: &Client, args: &PurgeArgs, as_json: bool) -> CliResult {
    known_queue(client, &args.queue).await?;
    let admin = client.admin();
    if !args.yes {
        let ready = admin.queue(&args.queue).await?.ready;
        if !std::io::stdin().is_terminal() {
            return Err(CliError::new(
                EXIT_REFUSED,
                "purge needs --yes when not run from a terminal",
            ));
        }
        eprint!(
            "Delete all {} ready jobs of {}? Type the queue name to confirm: ",
            count(ready),
            args.queue
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if answer.trim() != args.queue {
            return Err(CliError::new(EXIT_REFUSED, "not confirmed; nothing purged"));
        }
    }
    let n = admin.purge(&args.queue).await?;
    if n > 0 {
        audit(client, "purge", &args.queue, n).await;
    }
    if as_json {
        return json(&Outcome {
            action: "purge",
            queue: &args.queue,
            count: n,
        });
    }
    println!("purged {} ready job(s) from {}", count(n), args.queue);
    Ok(())
}

/// Fails with exit code 3 unless `queue` is a known queue.
pub(crate) async fn known_queue(client: &Client, queue: &str) -> CliResult {
    if client
        .admin()
        .queue_names()
        .await?
        .iter()
        .any(|q| q == queue)
    {
        Ok(())
    } else {
        Err(CliError::new(
            EXIT_NOT_FOUND,
            format!("no queue named {queue:?}"),
        ))
    }
}

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

/// Records an action that changed something (callers skip the ones that
/// did not: a flood of no-ops must not push real actions out of the
/// capped log); a failure to write the log is reported, not fatal.
pub(crate) async fn audit(client: &Client, action: &str, target: &str, count: u64) {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let entry = AuditEntry::now(&format!("cli:{user}@{host}"), action, target, count);
    if let Err(err) = client.admin().record_audit(&entry).await {
        eprintln!("warning: could not write the audit log: {err}");
    }
}
