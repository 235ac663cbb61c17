//! The `jobqueue` command line: global options and subcommands.
//!
//! Configuration comes from flags, then environment variables
//! (`JOBQUEUE_REDIS_URL`, `JOBQUEUE_PREFIX`, `JOBQUEUE_DASHBOARD_TOKEN`, ...),
//! then an optional config file of `NAME=value` lines (`--config` or
//! `JOBQUEUE_CONFIG`) that supplies environment variables not already set.

use clap::{Args, Parser, Subcommand};

use crate::bench::BenchArgs;
use crate::commands::{
    alerts, batches, cancel, cron, events, history, jobs, key_limits, limits, migrate,
    payload_keys, queue_actions, retry_delete, scaling, serve, signal, weights, workflows,
};

/// jobqueue: operate background job queues on Redis.
///
/// Examples:
///   jobqueue stats                         totals, rates and queues at a glance
///   jobqueue jobs dead --queue mail        newest dead jobs of queue "mail"
///   jobqueue retry --all-dead --queue mail --type send_email
///   jobqueue cron list                     cron entries, next and last runs
///   jobqueue alerts list                   alert rules, state and last firing
///   jobqueue queues limits mail --max-running 20 --rate 100/1s
///   jobqueue queues key-limits mail customer --rate 10/1s
///   jobqueue queues weights mail gold --weight 3
///   jobqueue scaling --queue mail          desired workers for an autoscaler
///   JOBQUEUE_PAYLOAD_KEYS=k2:...,k1:... jobqueue keys rotate --queue mail
///   jobqueue serve --bind 0.0.0.0:9090 --token "$TOKEN"
#[derive(Debug, Parser)]
#[command(name = "jobqueue", version, about, long_about, verbatim_doc_comment)]
pub struct Cli {
    /// Redis URL: redis://host:port (rediss:// for TLS; user:password@ for ACL auth),
    /// redis+cluster://host1:port1,host2:port2 for a Redis Cluster,
    /// redis+sentinel://s1:26379,s2:26379/service through Sentinel.
    #[arg(
        long,
        global = true,
        env = "JOBQUEUE_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,

    /// Key prefix of the jobqueue data (one per application sharing a Redis).
    #[arg(long, global = true, env = "JOBQUEUE_PREFIX", default_value = "jq")]
    pub prefix: String,

    /// Read the Redis password from this file at every connect and every
    /// --redis-password-refresh (a mounted secret that is rotated, e.g. a
    /// cloud IAM token); replaces a password in the URL.
    #[arg(long, global = true, env = "JOBQUEUE_REDIS_PASSWORD_FILE")]
    pub redis_password_file: Option<std::path::PathBuf>,

    /// The ACL user of --redis-password-file.
    #[arg(
        long,
        global = true,
        env = "JOBQUEUE_REDIS_USERNAME",
        default_value = "default"
    )]
    pub redis_username: String,

    /// Seconds between re-reads of --redis-password-file by live connections,
    /// which then log in again (keep it below the old password's overlap).
    #[arg(
        long,
        global = true,
        env = "JOBQUEUE_REDIS_PASSWORD_REFRESH",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub redis_password_refresh: u64,

    /// Config file of NAME=value lines (e.g. JOBQUEUE_REDIS_URL=redis://db:6379);
    /// flags and environment variables take precedence over it.
    #[arg(long, global = true, env = "JOBQUEUE_CONFIG")]
    pub config: Option<std::path::PathBuf>,

    /// Print JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    pub json: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands. Exit codes: 0 success, 1 error, 2 bad usage, 3 not found,
/// 4 Redis unavailable, 5 refused (unsafe configuration, or not confirmed),
/// 6 conflict with the current state (e.g. retrying a node that did not fail).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web dashboard, JSON API and /metrics.
    Serve(serve::ServeArgs),
    /// Totals, worker count, Redis, and every queue.
    Stats,
    /// Every queue with sizes, latency and paused flag; `queues limits` for flow limits,
    /// `queues key-limits` for the limits of flow key classes, `queues weights` for the
    /// weights of flow keys, `queues key-waits` for their waits.
    Queues(QueuesArgs),
    /// List jobs in a state (ready, keyed, scheduled, retry, dead, active, waiting, cancelled,
    /// expired, sleeping, waiting-for-signal), or `jobs search` by --tag, --id, --type, --batch or
    /// --field (and --action retry|delete|cancel on what it finds).
    Jobs(jobs::JobsArgs),
    /// Show one scheduled, retrying, dead, waiting, cancelled or expired job, and its status;
    /// --logs for its logs per attempt.
    Job(jobs::JobArgs),
    /// Cancel a waiting or running job.
    Cancel(cancel::CancelArgs),
    /// A queue's batches with their progress (open or finished).
    Batches(batches::BatchesArgs),
    /// One batch: counts and callbacks; --retry-dead or --cancel it.
    Batch(batches::BatchArgs),
    /// Send a signal to a durable job (wakes it when it waits for it).
    Signal(signal::SignalArgs),
    /// Cron entries: list, pause, resume, run now, remove.
    Cron(cron::CronArgs),
    /// Alert rules: list them with their state, or send a test firing.
    Alerts(alerts::AlertsArgs),
    /// List workflows (newest first), with filters.
    Workflows(workflows::WorkflowsArgs),
    /// Show a workflow and its nodes; --retry-from NODE re-runs a failed node and what is
    /// downstream of it; --cancel cancels it.
    Workflow(workflows::WorkflowArgs),
    /// A queue's lifecycle events (--follow to keep printing); --enable or
    /// --disable its event stream.
    Events(events::EventsArgs),
    /// A queue's history of finished jobs: enable, disable, status,
    /// search a day, export as NDJSON.
    History(history::HistoryArgs),
    /// The autoscaling signal: desired workers per queue and what it is
    /// computed from (reads twice, --sample-seconds apart, to measure throughput).
    Scaling(scaling::ScalingArgs),
    /// Retry dead or retrying jobs now (or run scheduled ones now).
    Retry(retry_delete::SelectArgs),
    /// Delete scheduled, retrying or dead jobs.
    Delete(retry_delete::SelectArgs),
    /// Pause a queue: workers stop fetching from it.
    Pause(queue_actions::QueueArgs),
    /// Resume a paused queue.
    Resume(queue_actions::QueueArgs),
    /// Drop every ready job of a queue; or, with --all-keys, remove every key under the key
    /// prefix (asks first, or --yes).
    Purge(queue_actions::PurgeArgs),
    /// Payload encryption keys: `keys status` counts a queue's payloads per key,
    /// `keys rotate` re-encrypts them under the active key of JOBQUEUE_PAYLOAD_KEYS.
    Keys(payload_keys::KeysArgs),
    /// Apply pending data-layout migrations (safe to run repeatedly).
    Migrate(migrate::MigrateArgs),
    /// Measure this Redis the way BENCH.md describes (prints one JSON line).
    Bench(BenchArgs),
}

/// `jobqueue queues [limits | key-limits | weights | key-waits ...]`.
#[derive(Debug, Args)]
pub struct QueuesArgs {
    /// Without a subcommand: the queues table.
    #[command(subcommand)]
    pub command: Option<QueuesCommand>,
}

/// Subcommands of `jobqueue queues`.
#[derive(Debug, Subcommand)]
pub enum QueuesCommand {
    /// Show a queue's flow limits, or set (--max-running, --rate) or --clear them.
    Limits(limits::LimitsArgs),
    /// Show the limits of a queue's flow key classes, or set (--max-running,
    /// --rate, --unlimited) or --clear one class's.
    KeyLimits(key_limits::KeyLimitsArgs),
    /// Show the weights of a queue's key classes and flow keys (weighted
    /// fairness), or set (--weight) or --clear one.
    Weights(weights::WeightsArgs),
    /// How long the busiest flow keys' latest starts waited (p50, p99, max),
    /// and the other keys' together.
    KeyWaits(weights::KeyWaitsArgs),
}
