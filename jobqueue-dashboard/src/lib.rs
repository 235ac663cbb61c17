//! # jobqueue-dashboard
//!
//! The operator's view of jobqueue: the `jobqueue` command-line tool.

pub mod cli;
pub mod commands;
