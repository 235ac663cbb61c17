//! # jobqueue-cli
//!
//! The `jobqueue` command line.

pub mod bench;
pub mod cli;
pub mod commands;
