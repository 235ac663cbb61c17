//! The Rust implementation's adapter (ADAPTER.md), built on the real
//! `jobqueue` client and worker; the binary `jobqueue-conformance-rust`
//! only parses its command line and calls [`worker::run`] or
//! [`producer::answer`].

pub mod handlers;
pub mod producer;
pub mod worker;
