//! `jobqueue batches` (a queue's batches with their progress) and
//! `jobqueue batch <id> [--retry-dead | --cancel]` (one batch: counts,
//! callbacks, how to search its jobs; retry its dead jobs or cancel it,
//! written to the audit log).

use clap::Args;
use jobqueue_core::Client;
use jobqueue_core::admin::{BatchInfo, BatchState};
use serde::Serialize;

use super::audit::audit;
use super::exit::CliResult;
use super::known_queue::known_queue;
use super::output::{count, json, table};

/// Options of `jobqueue batches`.
#[derive(Debug, Args)]
pub struct BatchesArgs {
    /// The batches' home queue.
    #[arg(long, short, default_value = "default")]
    pub queue: String,
    /// Only `open`, `finished` or `cancelled` batches.
    #[arg(long)]
    pub state: Option<String>,
    /// Most batches listed (newest first; at most 200).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// Options of `jobqueue batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The batch id.
    pub id: uuid::Uuid,
    /// Its home queue.
    #[arg(long, short, default_value = "default")]
    pub queue: String,
    /// Put the batch's dead jobs back in its queue (counted pending again).
    #[arg(long, conflicts_with = "cancel")]
    pub retry_dead: bool,
    /// Cancel the batch: its waiting jobs are removed and counted cancelled.
    #[arg(long)]
    pub cancel: bool,
}

/// `jobqueue batches`.
pub(crate) async fn batches(client: &Client, args: &BatchesArgs, as_json: bool) -> CliResult {
    known_queue(client, &args.queue).await?;
    let state = match args.state.as_deref() {
        None => None,
        Some("open") => Some(BatchState::Open),
        Some("finished") => Some(BatchState::Finished),
        Some("cancelled") => Some(BatchState::Cancelled),
        Some(other) => {
            return Err(super::exit::CliError::new(
                super::exit::EXIT_USAGE,
                format!("--state {other:?}: choose open, finished or cancelled"),
            ));
        }
    };
    let list = client
        .admin()
        .batches(&args.queue, state, 0, args.limit)
        .await?;
    if as_json {
        return json(&list);
    }
    let rows: Vec<Vec<String>> = list.iter().map(summary_row).collect();
    table(
        &[
            "id",
            "state",
            "done %",
            "total",
            "pending",
            "succeeded",
            "dead",
            "description",
        ],
        &rows,
    );
    Ok(())
}

fn summary_row(batch: &BatchInfo) -> Vec<String> {
    vec![
        batch.id.to_string(),
        state_name(batch.state).to_owned(),
        batch.percent_done().to_string(),
        count(batch.total),
        count(batch.pending),
        count(batch.succeeded),
        count(batch.dead),
        jobqueue_core::admin::escape_hidden(&batch.description, false).into_owned(),
    ]
}

fn state_name(state: BatchState) -> &'static str {
    match state {
        BatchState::Open => "open",
        BatchState::Finished => "finished",
        BatchState::Cancelled => "cancelled",
    }
}

#[derive(Serialize)]
struct ActionOutcome<'a> {
    action: &'a str,
    queue: &'a str,
    id: uuid::Uuid,
    jobs: u64,
}

/// `jobqueue batch`.
pub(crate) async fn batch(client: &Client, args: &BatchArgs, as_json: bool) -> CliResult {
    known_queue(client, &args.queue).await?;
    let admin = client.admin();
    let target = format!("{}/batch/{}", args.queue, args.id);
    let action = if args.retry_dead {
        Some((
            "batch_retry_dead",
            admin.batch_retry_dead(&args.queue, args.id).await?,
        ))
    } else if args.cancel {
        Some((
            "batch_cancel",
            admin.batch_cancel(&args.queue, args.id).await?,
        ))
    } else {
        None
    };
    if let Some((name, jobs)) = action {
        audit(client, name, &target, jobs).await;
        if as_json {
            return json(&ActionOutcome {
                action: name,
                queue: &args.queue,
                id: args.id,
                jobs,
            });
        }
        println!(
            "{name}: {jobs} job(s) of batch {} on queue {}",
            args.id, args.queue
        );
        return Ok(());
    }
    let info = admin.batch(&args.queue, args.id).await?;
    if as_json {
        return json(&info);
    }
    println!("batch {} on queue {}", info.id, info.queue);
    println!(
        "description: {}",
        jobqueue_core::admin::escape_hidden(&info.description, false)
    );
    println!(
        "state: {}{}, {}% done",
        state_name(info.state),
        if info.held {
            " (held by its producer)"
        } else {
            ""
        },
        info.percent_done()
    );
    table(
        &["total", "pending", "succeeded", "failed attempts", "dead"],
        &[vec![
            count(info.total),
            count(info.pending),
            count(info.succeeded),
            count(info.failed_attempts),
            count(info.dead),
        ]],
    );
    for callback in &info.callbacks {
        match callback.fired_at_ms {
            Some(ms) => println!("on_{}: fired at {ms} ms", callback.kind),
            None => println!("on_{}: not fired", callback.kind),
        }
    }
    print_nesting(&info);
    // A batch keeps no list of its jobs: a search by batch finds them.
    println!(
        "its jobs: jobqueue jobs search --batch {} --queue {}",
        info.id,
        jobqueue_core::admin::escape_hidden(&info.queue, false)
    );
    Ok(())
}

/// A batch's parent (for a child batch) and its child batches with their
/// state in it (nested batches).
fn print_nesting(info: &jobqueue_core::admin::BatchInfo) {
    if let Some(parent) = &info.parent {
        println!(
            "parent batch: {} on queue {}",
            parent.id,
            jobqueue_core::admin::escape_hidden(&parent.queue, false)
        );
    }
    if !info.children.is_empty() {
        table(
            &["child batch", "queue", "state here"],
            &info
                .children
                .iter()
                .map(|child| {
                    vec![
                        child.id.to_string(),
                        jobqueue_core::admin::escape_hidden(&child.queue, false).into_owned(),
                        jobqueue_core::admin::escape_hidden(&child.state, false).into_owned(),
                    ]
                })
                .collect::<Vec<_>>(),
        );
    }
}
