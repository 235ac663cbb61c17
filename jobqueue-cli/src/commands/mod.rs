//! One module per `jobqueue` subcommand, plus shared output and errors.

pub mod actions;
pub mod cancel;
pub mod config_file;
pub mod cron;
pub mod exit;
pub mod jobs;
pub mod key_limits;
pub mod limits;
pub mod migrate;
pub mod output;
pub mod serve;
pub mod stats;
