//! The `jobqueue` command line: global options and subcommands.

use clap::{Parser, Subcommand};

/// jobqueue: operate background job queues on Redis.
#[derive(Debug, Parser)]
#[command(name = "jobqueue", version, about, long_about = None)]
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

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending data-layout migrations (safe to run repeatedly).
    Migrate(crate::commands::migrate::MigrateArgs),
    /// Measure this Redis the way BENCH.md describes (prints one JSON line).
    Bench(jobqueue_bench::BenchArgs),
}
