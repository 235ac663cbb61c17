//! # jobqueue-cli
//!
//! The `jobqueue` command line: serve the dashboard (`jobqueue serve`),
//! look at queues, jobs, cron entries and flow limits, act on them (every
//! action is written to the audit log the dashboard shows), apply
//! migrations, and run the benchmark workloads of BENCH.md
//! (`jobqueue bench`). `jobqueue --help` lists the commands.
//!
//! The binary is a thin `main` over [`run`]; the library exists so the
//! integration tests can build what `jobqueue serve <flags>` configures
//! ([`commands::serve::plan`]).
//!
//! ## Layout
//!
//! - [`cli`]: the flags and subcommands (clap); `run.rs`: the process
//!   (config file, runtime, exit code) and which command runs.
//! - [`commands`]: one file per subcommand, plus what they share (exit
//!   codes, tables and JSON, the audit-log entry).
//! - [`bench`](mod@bench): the benchmark workloads and their worker process.
//!
//! TLS to Redis (`rediss://`) is on by default (the `tls` feature).
#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::too_many_lines)]
// Dev-dependencies are in scope for the unit tests too, so the check runs
// on the library build only.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod bench;
pub mod cli;
pub mod commands;
mod config_file;
mod run;

pub use run::run;
