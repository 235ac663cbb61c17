//! The wire format: what jobqueue writes to Redis and other languages read.
//!
//! * [`record`]: a job record, `<envelope JSON>\n<payload JSON>`, the unit
//!   every list, set and hash of a queue holds (docs/protocol.md).
//! * [`trace_context`]: the W3C `traceparent` a record carries.
//! * [`worker_info`]: the fields of a worker's `P:worker:<wid>` hash.
//! * [`workflow_ref`]: the envelope member naming a job's workflow and node.

pub mod record;
pub mod trace_context;
pub mod worker_info;
pub mod workflow_ref;
