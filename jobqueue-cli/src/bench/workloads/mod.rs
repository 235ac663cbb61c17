//! One module per workload.

pub(crate) mod caps;
pub(crate) mod delayed;
pub(crate) mod drain;
pub(crate) mod enqueue;
pub(crate) mod latency;
pub(crate) mod limits;
pub(crate) mod memory;
