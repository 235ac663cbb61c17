//! `jobqueue cancel <id>`: cancel a waiting or running job (written to the
//! audit log).

use clap::Args;
use jobqueue_core::{CancelOutcome, Client};
use serde::Serialize;

use jobqueue_dashboard::actions::jobs::cancel_audit_target;
use jobqueue_dashboard::format::variant_name;

use super::audit::audit;
use super::exit::{CliError, CliResult, EXIT_NOT_FOUND};
use super::known_queue::known_queue;
use super::output::json;

/// Options of `jobqueue cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The job id.
    pub id: uuid::Uuid,
    /// Its queue.
    #[arg(long, short, default_value = "default")]
    pub queue: String,
}

#[derive(Serialize)]
struct Outcome<'a> {
    action: &'a str,
    queue: &'a str,
    id: uuid::Uuid,
    from: jobqueue_core::CancelledFrom,
}

/// `jobqueue cancel`.
pub(crate) async fn cancel(client: &Client, args: &CancelArgs, as_json: bool) -> CliResult {
    known_queue(client, &args.queue).await?;
    let from = match client.admin().cancel(&args.queue, args.id).await? {
        CancelOutcome::Cancelled { from } => from,
        CancelOutcome::NotFound => {
            return Err(CliError::new(
                EXIT_NOT_FOUND,
                format!(
                    "no waiting or running job {} on queue {:?} (finished, dead, already cancelled or unknown)",
                    args.id, args.queue
                ),
            ));
        }
    };
    audit(
        client,
        "cancel",
        &cancel_audit_target(&args.queue, args.id),
        1,
    )
    .await;
    if as_json {
        return json(&Outcome {
            action: "cancel",
            queue: &args.queue,
            id: args.id,
            from,
        });
    }
    let from_text = variant_name(&from);
    println!(
        "cancelled job {} of queue {} (it was {from_text})",
        args.id, args.queue
    );
    Ok(())
}
