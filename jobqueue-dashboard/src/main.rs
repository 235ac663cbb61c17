//! The `jobqueue` binary.

use std::process::ExitCode;

use clap::Parser;
use jobqueue_core::ClientConfig;
use jobqueue_dashboard::cli::{Cli, Command};
use jobqueue_dashboard::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // The benchmark measures one producer and one worker process the way
    // redis-benchmark measures one client: on a single-threaded runtime
    // (see docs/benchmarks.md). Everything else uses all cores.
    let runtime = match cli.command {
        Command::Bench(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let config = ClientConfig::new(&cli.redis_url).prefix(&cli.prefix);
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Migrate(args) => commands::migrate::run(config, args)
                .await
                .map_err(|e| e.to_string()),
            Command::Bench(args) => jobqueue_bench::run(config, args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
