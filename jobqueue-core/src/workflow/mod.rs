//! Workflows: named jobs ("nodes") connected by edges, each edge with a
//! failure policy, enqueued together under one workflow id.
//!
//! A node is an ordinary typed job enqueued [`with_dependents`] and
//! [`after`] its parents, so workflows run on the chain machinery
//! (`docs/flow-control.md`): each edge is one parent of the node, with its
//! own [`OnParentFailure`] (dead-letter, skip, run, wait). Results flow
//! along the edges ([`crate::JobContext::parent_result`]).
//!
//! The workflow's record `P:{Q}:workflow:<wid>` lives on its first node's
//! queue (one slot: Redis Cluster) and maps each node to its current job
//! id; the nodes' own states live in their dependency records and
//! statuses, and [`WorkflowStatus`] rolls them up.
//!
//! | file | holds |
//! | --- | --- |
//! | `graph.rs` | the shape: nodes, edges, checks, topological order |
//! | `builder.rs` | [`Workflow`], the builder returned by [`crate::Client::workflow`] |
//! | `enqueue.rs` | placing the nodes, all or nothing |
//! | `status.rs` | reading a workflow back and rolling up its nodes |
//! | `control.rs` | cancel, and retry from a failed node |
//!
//! [`with_dependents`]: crate::JobBuilder::with_dependents
//! [`after`]: crate::JobBuilder::after
//! [`OnParentFailure`]: crate::OnParentFailure

pub mod builder;
pub mod control;
mod enqueue;
pub mod graph;
pub mod status;

use std::time::Duration;

pub use crate::wire::workflow_ref::WorkflowRef;
pub use builder::Workflow;
pub use control::RetryReport;
pub use graph::{Edge, Graph, MAX_WORKFLOW_NODES, NodeShape};
pub use status::{NodeState, NodeStatus, WorkflowState, WorkflowStatus, WorkflowSummary};

/// How long a workflow's record is kept after its last change (the same
/// 30 days as its nodes' dependency records and results).
pub const WORKFLOW_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Most workflows a queue's index lists (the oldest are dropped from the
/// index beyond it; their records still expire on their own).
pub const MAX_LISTED_WORKFLOWS: usize = 10_000;

/// The retention in whole milliseconds.
pub(crate) fn retention_ms() -> u64 {
    crate::client::status::millis(WORKFLOW_RETENTION)
}
