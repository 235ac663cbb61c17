//! `jobqueue pause|resume|purge`: every one that changed something is
//! written to the audit log.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;
use jobqueue_core::Client;
use serde::Serialize;

use super::audit::audit;
use super::exit::{CliError, CliResult, EXIT_REFUSED};
use super::known_queue::known_queue;
use super::output::{count, json};

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
    known_queue(client, &args.queue).await?;
    let admin = client.admin();
    if !args.yes {
        let ready = admin.queue(&args.queue).await?.ready;
        confirm_purge(&args.queue, ready)?;
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

/// Asks on the terminal for the queue's name before a purge; refused when
/// stdin is not a terminal or the answer is not the name.
fn confirm_purge(queue: &str, ready: u64) -> CliResult {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::new(
            EXIT_REFUSED,
            "purge needs --yes when not run from a terminal",
        ));
    }
    eprint!(
        "Delete all {} ready jobs of {queue}? Type the queue name to confirm: ",
        count(ready),
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() != queue {
        return Err(CliError::new(EXIT_REFUSED, "not confirmed; nothing purged"));
    }
    Ok(())
}
