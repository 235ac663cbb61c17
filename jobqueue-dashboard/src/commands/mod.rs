//! One module per `jobqueue` subcommand.

pub mod migrate;
