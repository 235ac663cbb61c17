//! What the worker's tasks share: [`shared::Shared`] and the pieces it is
//! made of — each queue's state, the jobs held and running, the flow-limit
//! knowledge, the queue order, the worker's identity and the registry of
//! job handlers.

pub(crate) mod flow_limits;
pub(crate) mod held_jobs;
pub(crate) mod identity;
pub(crate) mod limits_loader;
pub(crate) mod queue;
pub(crate) mod queue_order;
pub(crate) mod registry;
pub(crate) mod running_jobs;
pub(crate) mod shared;
