//! `jobqueue pause|resume|purge`: every one that changed something is
//! written to the audit log.

use clap::Args;
use jobqueue_core::Client;
use serde::Serialize;

use super::audit::audit;
use super::confirm::confirm;
use super::exit::CliResult;
use super::known_queue::known_queue;
use super::output::{count, json};

/// A queue name.
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// The queue.
    pub queue: String,
}

/// Options of `purge`: one queue's ready jobs, or (`--all-keys`)
/// everything under the key prefix.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The queue whose ready jobs to drop.
    #[arg(required_unless_present = "all_keys", conflicts_with = "all_keys")]
    pub queue: Option<String>,
    /// Remove every key under the key prefix (`--prefix`, default `jq`):
    /// all queues, jobs, statuses, cron entries, counters and the audit log.
    /// Keys of other prefixes are not touched. Stop workers first.
    #[arg(long)]
    pub all_keys: bool,
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

/// `pause`, `resume`.
pub(crate) async fn pause_resume(
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
pub(crate) async fn purge(client: &Client, args: &PurgeArgs, as_json: bool) -> CliResult {
    let Some(queue) = args.queue.as_deref() else {
        return super::purge_prefix::purge_prefix(client, args.yes, as_json).await;
    };
    known_queue(client, queue).await?;
    let admin = client.admin();
    if !args.yes {
        let ready = admin.queue(queue).await?.ready;
        let question = format!(
            "Delete all {} ready jobs of {queue}? Type the queue name to confirm: ",
            count(ready)
        );
        confirm(&question, queue)?;
    }
    let n = admin.purge(queue).await?;
    if n > 0 {
        audit(client, "purge", queue, n).await;
    }
    if as_json {
        return json(&Outcome {
            action: "purge",
            queue,
            count: n,
        });
    }
    println!("purged {} ready job(s) from {queue}", count(n));
    Ok(())
}
