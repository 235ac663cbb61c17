//! # jobqueue-conformance
//!
//! The protocol conformance suite (issue 17): language-neutral scenarios
//! that every producer and worker implementation of the jobqueue protocol
//! must pass, driven from Rust against a real Redis. Each implementation
//! provides one adapter command ([ADAPTER.md](https://github.com/jobqueue-rs/jobqueue/blob/main/conformance/ADAPTER.md));
//! the driver starts its worker and producer processes, sends the scenario's
//! requests and checks what landed in Redis through the Rust operator API
//! and raw reads — job records, the dead set with its error history,
//! counters, leases, statuses.
//!
//! * [`adapters`]: finding the adapters (`JOBQUEUE_CONFORMANCE_ADAPTERS`,
//!   `JOBQUEUE_CONFORMANCE_REQUIRE`);
//! * [`process`]: worker and producer processes;
//! * [`protocol`]: the producer requests and replies;
//! * [`probe`]: reading the state the scenarios check;
//! * [`scenario`](mod@scenario) and [`scenarios`]: the scenarios, each under its own key prefix;
//! * [`suite`]: running scenarios for a producer × worker pairing, and the report;
//! * [`known_failing`]: the one list of (adapter, scenario) pairs known to fail;
//! * [`rust_adapter`]: the Rust implementation's adapter (binary
//!   `jobqueue-conformance-rust`).
//!
//! How to run it and how to add an implementation: conformance/README.md.
#![warn(missing_docs, unreachable_pub)]

pub mod adapters;
pub mod failure;
pub mod known_failing;
pub mod probe;
pub mod process;
pub mod protocol;
pub mod rust_adapter;
pub mod scenario;
pub mod scenarios;
pub mod suite;
