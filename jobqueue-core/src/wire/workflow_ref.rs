//! [`WorkflowRef`]: the envelope member naming a job's workflow and node.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a job belongs in a workflow: carried in its envelope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkflowRef {
    /// The workflow id.
    pub id: Uuid,
    /// The queue holding the workflow's record.
    pub queue: String,
    /// The node's name.
    pub node: String,
}
