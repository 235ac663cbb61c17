//! The `jobqueue` binary.

use std::process::ExitCode;

use clap::Parser;
use jobqueue_core::ClientConfig;
use jobqueue_dashboard::cli::{Cli, Command};
use jobqueue_dashboard::commands;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = ClientConfig::new(&cli.redis_url).prefix(&cli.prefix);
    let result = match &cli.command {
        Command::Migrate(args) => commands::migrate::run(config, args)
            .await
            .map_err(|e| e.to_string()),
        Command::Bench(args) => jobqueue_bench::run(config, args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
