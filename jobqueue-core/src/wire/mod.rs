//! The wire format: what jobqueue writes to Redis and other languages read.
//!
//! * [`record`]: a job record, `<envelope JSON>\n<payload JSON>`, the unit
//!   every list, set and hash of a queue holds (docs/protocol.md).
//! * [`payload_codec`]: optional compression and encryption of payloads
//!   (the envelope's `enc`), with [`payload_keys`] (the keyring),
//!   [`payload_primitives`] (zstd and XChaCha20-Poly1305 behind features)
//!   and [`payload_error`].
//! * [`trace_context`]: the W3C `traceparent` a record carries.
//! * [`worker_info`]: the fields of a worker's `P:worker:<wid>` hash.
//! * [`workflow_ref`]: the envelope member naming a job's workflow and node.

pub mod payload_codec;
pub mod payload_error;
pub mod payload_keys;
pub mod payload_primitives;
pub mod record;
pub mod trace_context;
pub mod worker_info;
pub mod workflow_ref;
