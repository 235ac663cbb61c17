//! `jobqueue signal <id> <name> --payload '{..}'`: send a signal to a
//! durable job (written to the audit log). The payload is JSON (`null`
//! when left out); the global `--json` flag, as everywhere, makes the
//! output JSON.

use clap::Args;
use jobqueue_core::{Client, SignalOutcome};
use serde::Serialize;

use jobqueue_dashboard::format::variant_name;

use super::audit::audit;
use super::exit::CliResult;
use super::known_queue::known_queue;
use super::output::json;

/// Options of `jobqueue signal`.
#[derive(Debug, Args)]
pub struct SignalArgs {
    /// The job id.
    pub id: uuid::Uuid,
    /// The signal name the job waits for (`wait_for_signal`).
    pub name: String,
    /// Its queue.
    #[arg(long, short, default_value = "default")]
    pub queue: String,
    /// The signal's payload, JSON.
    #[arg(long, short, default_value = "null")]
    pub payload: String,
}

#[derive(Serialize)]
struct Outcome<'a> {
    action: &'a str,
    queue: &'a str,
    id: uuid::Uuid,
    name: &'a str,
    #[serde(flatten)]
    outcome: SignalOutcome,
}

/// `jobqueue signal`.
pub(crate) async fn signal(client: &Client, args: &SignalArgs, as_json: bool) -> CliResult {
    known_queue(client, &args.queue).await?;
    let outcome = client
        .admin()
        .signal_json(&args.queue, args.id, &args.name, &args.payload)
        .await?;
    let target = format!(
        "job {} on queue {}: signal {}",
        args.id, args.queue, args.name
    );
    audit(client, "signal", &target, 1).await;
    if as_json {
        return json(&Outcome {
            action: "signal",
            queue: &args.queue,
            id: args.id,
            name: &args.name,
            outcome,
        });
    }
    let what = match outcome {
        SignalOutcome::Woken => "the job was waiting for it and is due now",
        SignalOutcome::Stored => "kept until the job waits for it",
    };
    println!(
        "signal {} sent to job {} of queue {} ({}: {what})",
        args.name,
        args.id,
        args.queue,
        variant_name(&outcome)
    );
    Ok(())
}
