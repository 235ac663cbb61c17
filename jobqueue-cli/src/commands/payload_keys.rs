//! `jobqueue keys status --queue q` and `jobqueue keys rotate --queue q`:
//! which keys a queue's stored payloads are encrypted with, and
//! re-encrypting them under the active key (docs/payload-encoding.md).
//!
//! The keys come from `JOBQUEUE_PAYLOAD_KEYS` (`id:base64,id:base64`, the
//! first active), from the environment or the config file; they are never
//! printed.

use clap::{Args, Subcommand};
use jobqueue_core::Client;
use jobqueue_core::wire::payload_codec::PayloadCodec;

use super::audit::audit;
use super::exit::{CliError, CliResult, EXIT_ERROR, EXIT_USAGE};
use super::known_queue::known_queue;
use super::output::json;

/// Options of `jobqueue keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// Subcommands of `jobqueue keys`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Count a queue's stored payloads by encoding and key id (needs no keys).
    Status(KeysQueueArgs),
    /// Re-encrypt a queue's waiting, scheduled, retrying and dead payloads under the active
    /// key of JOBQUEUE_PAYLOAD_KEYS, in batches, each record swapped only if unchanged.
    Rotate(RotateArgs),
}

/// The queue a `keys` command looks at.
#[derive(Debug, Args)]
pub struct KeysQueueArgs {
    /// The queue.
    #[arg(long, short, default_value = "default")]
    pub queue: String,
}

/// Options of `jobqueue keys rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The queue.
    #[arg(long, short, default_value = "default")]
    pub queue: String,
    /// Records read and swapped per round trip (1-1000; the operator API's
    /// `DEFAULT_ROTATION_BATCH` is 100).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub batch: u16,
}

/// `jobqueue keys`.
pub(crate) async fn keys(client: &Client, args: &KeysArgs, as_json: bool) -> CliResult {
    match &args.command {
        KeysCommand::Status(args) => status(client, &args.queue, as_json).await,
        KeysCommand::Rotate(args) => rotate(client, args, as_json).await,
    }
}

async fn status(client: &Client, queue: &str, as_json: bool) -> CliResult {
    known_queue(client, queue).await?;
    let status = client.admin().payload_key_status(queue).await?;
    if as_json {
        return json(&status);
    }
    println!("queue {}: {} stored records", status.queue, status.records);
    println!("  plain        {}", status.plain);
    println!("  compressed   {}", status.compressed);
    for (key, count) in &status.by_key {
        println!("  key {key:<8} {count}");
    }
    if status.unreadable > 0 {
        println!("  unreadable   {}", status.unreadable);
    }
    Ok(())
}

async fn rotate(client: &Client, args: &RotateArgs, as_json: bool) -> CliResult {
    let codec = PayloadCodec::from_env().map_err(|e| CliError::new(EXIT_USAGE, e.to_string()))?;
    if codec.keyring().is_none() {
        return Err(CliError::new(
            EXIT_USAGE,
            "set JOBQUEUE_PAYLOAD_KEYS (id:base64,id:base64, the first active) to rotate",
        ));
    }
    known_queue(client, &args.queue).await?;
    let report = client
        .admin()
        .rotate_payload_keys(&args.queue, &codec, usize::from(args.batch))
        .await?;
    let target = format!(
        "queue {}: payloads to key {}",
        args.queue, report.active_key
    );
    audit(client, "keys_rotate", &target, report.rotated).await;
    if as_json {
        json(&report)?;
    } else {
        println!(
            "queue {}: {} examined, {} re-encrypted under key {}, {} already current, {} not \
             encrypted, {} moved meanwhile (run again), {} failed",
            report.queue,
            report.examined,
            report.rotated,
            report.active_key,
            report.current,
            report.not_encrypted,
            report.moved,
            report.failed
        );
        for failure in &report.failures {
            println!("  {failure}");
        }
    }
    if report.failed > 0 {
        return Err(CliError::new(
            EXIT_ERROR,
            format!("{} payloads could not be re-encrypted", report.failed),
        ));
    }
    Ok(())
}
