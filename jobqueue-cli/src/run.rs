//! What the `jobqueue` binary does: take the config file's settings, parse
//! the flags, start the async runtime, run the command, and turn its
//! outcome into an exit code.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use jobqueue_core::credentials::FileCredentials;
use jobqueue_core::{BulkAction, Client, ClientConfig};

use crate::bench;
use crate::cli::{Cli, Command, QueuesCommand};
use crate::commands::exit::{CliError, EXIT_ERROR, EXIT_USAGE};
use crate::commands::{
    alerts, batches, cancel, cron, events, history, jobs, key_limits, limits, migrate,
    payload_keys, queue_actions, retry_delete, scaling, serve, signal, stats, weights, workflows,
};
use crate::config_file;

/// Runs `jobqueue` with the process's arguments and environment.
pub fn run() -> ExitCode {
    // The config file supplies environment variables the environment does
    // not set, so it is read before the flags are parsed.
    if let Some(path) = config_file::path_from_args() {
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
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_log_filter(&cli.command)));
    if matches!(&cli.command, Command::Bench(args) if args.logs) {
        // `bench … --logs` (its worker process): the capture layer sees
        // every event; the filter applies to the printed output only.
        use tracing_subscriber::prelude::*;
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .with(jobqueue_worker::JobLogLayer::new())
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = match runtime_for(&cli.command) {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut config = ClientConfig::new(&cli.redis_url).prefix(&cli.prefix);
    if let Some(file) = &cli.redis_password_file {
        config = config.credentials_provider(
            FileCredentials::new(&cli.redis_username, file)
                .refresh_every(Duration::from_secs(cli.redis_password_refresh)),
        );
    }
    match runtime.block_on(dispatch(&cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", err.message);
            err.exit_code()
        }
    }
}

/// What is printed without `RUST_LOG`: warnings, except the `caps`
/// benchmark's warning per job it fails on purpose (one in ten of a
/// million).
fn default_log_filter(command: &Command) -> &'static str {
    match command {
        Command::Bench(args) if args.workload == "caps" => {
            "warn,jobqueue_worker::run::runner=error"
        }
        _ => "warn",
    }
}

/// The benchmark measures one producer and one worker process the way
/// redis-benchmark measures one client: on a single-threaded runtime (see
/// docs/benchmarks.md). Everything else uses all cores.
fn runtime_for(command: &Command) -> std::io::Result<tokio::runtime::Runtime> {
    match command {
        Command::Bench(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    }
}

/// Runs the command `cli` names.
async fn dispatch(cli: &Cli, config: ClientConfig) -> Result<(), CliError> {
    match &cli.command {
        Command::Migrate(args) => return Ok(migrate::run(config, args).await?),
        Command::Bench(args) => {
            return bench::run(config, args)
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
            Some(QueuesCommand::Weights(args)) => weights::weights(&client, args, json).await,
            Some(QueuesCommand::KeyWaits(args)) => {
                weights::key_waits_command(&client, args, json).await
            }
        },
        Command::Jobs(args) => jobs::jobs(&client, args, json).await,
        Command::Job(args) => jobs::job(&client, args, json).await,
        Command::Retry(args) => retry_delete::run(&client, args, BulkAction::Retry, json).await,
        Command::Delete(args) => retry_delete::run(&client, args, BulkAction::Delete, json).await,
        Command::Pause(args) => queue_actions::pause_resume(&client, args, true, json).await,
        Command::Resume(args) => queue_actions::pause_resume(&client, args, false, json).await,
        Command::Purge(args) => queue_actions::purge(&client, args, json).await,
        Command::Scaling(args) => scaling::scaling(&client, args, json).await,
        Command::Cancel(args) => cancel::cancel(&client, args, json).await,
        Command::Signal(args) => signal::signal(&client, args, json).await,
        Command::Cron(args) => cron::cron(&client, args, json).await,
        Command::Alerts(args) => alerts::alerts(&client, args, json).await,
        Command::Workflows(args) => workflows::list(&client, args, json).await,
        Command::Workflow(args) => workflows::workflow(&client, args, json).await,
        Command::Batches(args) => batches::batches(&client, args, json).await,
        Command::Batch(args) => batches::batch(&client, args, json).await,
        Command::Events(args) => events::events(&client, args, json).await,
        Command::History(args) => history::history(&client, args, json).await,
        Command::Keys(args) => payload_keys::keys(&client, args, json).await,
        Command::Migrate(_) | Command::Bench(_) => Ok(()),
    }
}
