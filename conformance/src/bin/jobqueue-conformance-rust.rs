//! The Rust implementation's conformance adapter (conformance/ADAPTER.md):
//! `worker` runs the real jobqueue worker with the conformance handlers,
//! `produce` answers producer requests read from stdin with the real client.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use jobqueue::{Client, ClientConfig};
use jobqueue_conformance::rust_adapter::{producer, worker};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Parser)]
#[command(about = "The jobqueue conformance adapter of the Rust implementation")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Run a worker with the conformance handlers until SIGTERM / SIGINT.
    Worker {
        #[arg(long)]
        url: String,
        #[arg(long)]
        prefix: String,
        /// Comma-separated queue names.
        #[arg(long)]
        queues: String,
        #[arg(long, default_value_t = 10)]
        concurrency: usize,
        #[arg(long)]
        lease_ms: Option<u64>,
        #[arg(long)]
        shutdown_grace_ms: Option<u64>,
        #[arg(long, default_value = "rust")]
        language_tag: String,
    },
    /// Answer one JSON request per stdin line with one JSON reply line.
    Produce {
        #[arg(long)]
        url: String,
        #[arg(long)]
        prefix: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JOBQUEUE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let outcome = match Cli::parse().mode {
        Mode::Worker {
            url,
            prefix,
            queues,
            concurrency,
            lease_ms,
            shutdown_grace_ms,
            language_tag,
        } => worker::run(worker::WorkerSettings {
            url,
            prefix,
            queues: queues
                .split(',')
                .filter(|q| !q.is_empty())
                .map(str::to_owned)
                .collect(),
            concurrency,
            lease: lease_ms.map(Duration::from_millis),
            shutdown_grace: shutdown_grace_ms.map(Duration::from_millis),
            language: language_tag,
        })
        .await
        .map_err(|err| err.to_string()),
        Mode::Produce { url, prefix } => produce(&url, &prefix).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn produce(url: &str, prefix: &str) -> Result<(), String> {
    let client = Client::with_config(ClientConfig::new(url).prefix(prefix))
        .await
        .map_err(|err| format!("connecting: {err}"))?;
    let broken = producer::DeliberateBreak::from_env();
    if let Some(broken) = broken {
        tracing::warn!(
            ?broken,
            "a deliberate protocol break is on (the suite's test of itself)"
        );
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    while let Some(line) = lines.next_line().await.map_err(|err| err.to_string())? {
        if line.trim().is_empty() {
            continue;
        }
        let reply = producer::answer(&client, &line, broken).await;
        stdout
            .write_all(format!("{reply}\n").as_bytes())
            .await
            .map_err(|err| err.to_string())?;
        stdout.flush().await.map_err(|err| err.to_string())?;
    }
    Ok(())
}
