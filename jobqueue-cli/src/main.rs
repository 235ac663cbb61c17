//! The `jobqueue` binary.

use std::process::ExitCode;

use clap::Parser;
use jobqueue_cli::cli::{Cli, Command, QueuesCommand};
use jobqueue_cli::commands::exit::{CliError, EXIT_ERROR, EXIT_USAGE};
use jobqueue_cli::commands::{
    actions, cancel, config_file, cron, jobs, key_limits, limits, serve, stats,
};
use jobqueue_core::{BulkAction, Client, ClientConfig};

fn main() -> ExitCode {
    // The config file supplies environment variables the environment does
    // not set, so it is read before the flags are parsed.
    if let Some(path) = config_path_from_args() {
        match config_file::missing_vars(&path) {
            // SAFETY: no other thread exists yet (the runtime is built below).
            Ok(vars) => vars
                .into_iter()
                .for_each(|(k, v)| unsafe { std::env::set_var(k, v) }),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
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
    match runtime.block_on(run(&cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", err.message);
            err.exit_code()
        }
    }
}

async fn run(cli: &Cli, config: ClientConfig) -> Result<(), CliError> {
    match &cli.command {
        Command::Migrate(args) => {
            return Ok(jobqueue_cli::commands::migrate::run(config, args).await?);
        }
        Command::Bench(args) => {
            return jobqueue_cli::bench::run(config, args)
                .await
                .map_err(|m| CliError::new(EXIT_ERROR, m));
        }
        _ => {}
    }
    let client = Client::with_config(config).await?;
    let json = cli.json;
    match &cli.command {
        Command::Serve(args) => serve::run(&client, args).await,
        Command::Stats => stats::stats(&client, json).await,
        Command::Queues(args) => match &args.command {
            None => stats::queues(&client, json).await,
            Some(QueuesCommand::Limits(args)) => limits::limits(&client, args, json).await,
            Some(QueuesCommand::KeyLimits(args)) => {
                key_limits::key_limits(&client, args, json).await
            }
        },
        Command::Jobs(args) => jobs::jobs(&client, args, json).await,
        Command::Job(args) => jobs::job(&client, args, json).await,
        Command::Retry(args) => {
            actions::select_action(&client, args, BulkAction::Retry, json).await
        }
        Command::Delete(args) => {
            actions::select_action(&client, args, BulkAction::Delete, json).await
        }
        Command::Pause(args) => actions::pause_resume(&client, args, true, json).await,
        Command::Resume(args) => actions::pause_resume(&client, args, false, json).await,
        Command::Purge(args) => actions::purge(&client, args, json).await,
        Command::Cancel(args) => cancel::cancel(&client, args, json).await,
        Command::Cron(args) => cron::cron(&client, args, json).await,
        Command::Migrate(_) | Command::Bench(_) => Ok(()),
    }
}

/// `--config <path>` / `--config=<path>` from the raw arguments, else `JOBQUEUE_CONFIG`.
fn config_path_from_args() -> Option<std::path::PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--config" {
            return args.next().map(Into::into);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(path.into());
        }
    }
    std::env::var_os("JOBQUEUE_CONFIG").map(Into::into)
}
