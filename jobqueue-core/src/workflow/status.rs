//! Reading a workflow back: its record, each node's state (from the node
//! job's dependency record, status and deps hash) and the roll-up.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::admin::Admin;
use crate::client::Client;
use crate::error::Error;
use crate::store::commands::workflows::NodeFacts;
use crate::store::keys::QueueKeys;
use crate::workflow::graph::{Edge, Graph};

const OP: &str = "workflow";

/// Where one node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Placed, no status yet (or its status expired while it waits).
    Pending,
    /// Waiting for its parents.
    Waiting,
    /// Ready or scheduled, waiting for a worker.
    Queued,
    /// A worker runs it.
    Running,
    /// An attempt failed; it runs again.
    Retrying,
    /// Succeeded (its result, if any, is kept for its dependents).
    Succeeded,
    /// Died (in its queue's dead set), or dead-lettered because a parent failed.
    Failed,
    /// Never ran: a parent failed on a `skip` edge.
    Skipped,
    /// Cancelled.
    Cancelled,
    /// Its records expired.
    Unknown,
}

impl NodeState {
    /// The state's name (`pending`, `running`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Pending => "pending",
            NodeState::Waiting => "waiting",
            NodeState::Queued => "queued",
            NodeState::Running => "running",
            NodeState::Retrying => "retrying",
            NodeState::Succeeded => "succeeded",
            NodeState::Failed => "failed",
            NodeState::Skipped => "skipped",
            NodeState::Cancelled => "cancelled",
            NodeState::Unknown => "unknown",
        }
    }

    /// True while the node may still run.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            NodeState::Pending
                | NodeState::Waiting
                | NodeState::Queued
                | NodeState::Running
                | NodeState::Retrying
        )
    }

    /// Works out a node's state from what Redis holds about its job.
    fn from_facts(facts: &NodeFacts, workflow_cancelled: bool) -> Self {
        let status = facts.status_state.as_deref();
        match facts.parent_state.as_deref() {
            Some("succeeded") => NodeState::Succeeded,
            Some("skipped") => NodeState::Skipped,
            Some("failed") if status == Some("cancelled") => NodeState::Cancelled,
            Some("failed") if workflow_cancelled && status.is_none_or(|s| s != "dead") => {
                NodeState::Cancelled
            }
            Some("failed") => NodeState::Failed,
            // A cancelled workflow's node that never got a status was
            // never placed, or its status expired: it will not run.
            Some(_) if workflow_cancelled && status.is_none() => NodeState::Cancelled,
            Some(_) => match status {
                Some("running") => NodeState::Running,
                Some("retrying") => NodeState::Retrying,
                Some("waiting") => NodeState::Waiting,
                Some("queued" | "scheduled") => NodeState::Queued,
                Some("cancelled") => NodeState::Cancelled,
                Some("dead") => NodeState::Failed,
                _ => NodeState::Pending,
            },
            None => NodeState::Unknown,
        }
    }
}

/// The workflow as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowState {
    /// Its producer stopped while enqueueing it (or the enqueue failed):
    /// not every node was placed. Cancel it to remove what was.
    Incomplete,
    /// Some node may still run.
    Running,
    /// Every node succeeded.
    Succeeded,
    /// Nothing runs any more and some node failed or was skipped.
    Failed,
    /// Cancelled by an operator.
    Cancelled,
}

impl WorkflowState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowState::Incomplete => "incomplete",
            WorkflowState::Running => "running",
            WorkflowState::Succeeded => "succeeded",
            WorkflowState::Failed => "failed",
            WorkflowState::Cancelled => "cancelled",
        }
    }

    /// Parses a name as [`WorkflowState::as_str`] gives it.
    pub fn parse(text: &str) -> Option<Self> {
        [
            WorkflowState::Incomplete,
            WorkflowState::Running,
            WorkflowState::Succeeded,
            WorkflowState::Failed,
            WorkflowState::Cancelled,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// One node of a workflow and where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeStatus {
    /// The node's name.
    pub name: String,
    /// Its queue.
    pub queue: String,
    /// Its job type.
    pub job_type: String,
    /// Its current job (a retry gives it a new one).
    pub job_id: Uuid,
    /// Where it is.
    pub state: NodeState,
    /// How many times a retry re-enqueued it.
    pub reruns: u32,
    /// Its layer in the graph (0 for a root).
    pub depth: usize,
    /// The error of its last failure, or the parent it was skipped or
    /// dead-lettered for.
    pub error: Option<String>,
}

/// Nodes per state group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NodeCounts {
    /// Placed, waiting for parents or for a worker.
    pub pending: usize,
    /// Running or retrying.
    pub running: usize,
    /// Succeeded.
    pub succeeded: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Cancelled.
    pub cancelled: usize,
}

/// A workflow in a list: its state and node counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowSummary {
    /// The workflow id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The queue holding its record.
    pub queue: String,
    /// When it was enqueued.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub created_at: Option<DateTime<Utc>>,
    /// Its rolled-up state.
    pub state: WorkflowState,
    /// Its nodes per state group.
    pub counts: NodeCounts,
    /// How many retries re-enqueued part of it.
    pub retries: u32,
}

/// A workflow with every node: [`Admin::workflow`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowStatus {
    /// State, counts and identity.
    #[serde(flatten)]
    pub summary: WorkflowSummary,
    /// Every node, in topological order.
    pub nodes: Vec<NodeStatus>,
    /// Every edge.
    pub edges: Vec<Edge>,
}

impl WorkflowStatus {
    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&NodeStatus> {
        self.nodes.iter().find(|node| node.name == name)
    }
}

/// A workflow's record, decoded.
pub(crate) struct Record {
    pub(crate) name: String,
    pub(crate) graph: Graph,
    pub(crate) state: String,
    pub(crate) created_ms: Option<i64>,
    pub(crate) cancelled: bool,
    pub(crate) retries: u32,
    pub(crate) fields: HashMap<String, String>,
}

impl Record {
    fn parse(id: Uuid, fields: HashMap<String, String>) -> Result<Self, Error> {
        let graph: Graph = fields
            .get("graph")
            .map(|json| serde_json::from_str(json))
            .transpose()
            .map_err(|e| Error::Decode {
                op: OP,
                message: format!("graph of workflow {id}: {e}"),
            })?
            .unwrap_or_default();
        Ok(Self {
            name: fields.get("name").cloned().unwrap_or_default(),
            graph,
            state: fields.get("state").cloned().unwrap_or_default(),
            created_ms: fields.get("created").and_then(|ms| ms.parse().ok()),
            cancelled: fields.contains_key("cancelled"),
            retries: fields
                .get("retries")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            fields,
        })
    }

    /// Node `name`'s current job id.
    pub(crate) fn job_id(&self, name: &str) -> Option<Uuid> {
        self.fields
            .get(&format!("n:{name}"))
            .and_then(|id| Uuid::parse_str(id).ok())
    }

    /// Node `name`'s record as first enqueued.
    pub(crate) fn template(&self, name: &str) -> Option<&str> {
        self.fields.get(&format!("j:{name}")).map(String::as_str)
    }

    fn reruns(&self, name: &str) -> u32 {
        self.fields
            .get(&format!("r:{name}"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// The roll-up of the node states.
fn roll_up(record: &Record, nodes: &[NodeStatus]) -> (WorkflowState, NodeCounts) {
    let mut counts = NodeCounts::default();
    for node in nodes {
        match node.state {
            NodeState::Running | NodeState::Retrying => counts.running += 1,
            NodeState::Succeeded => counts.succeeded += 1,
            NodeState::Failed | NodeState::Unknown => counts.failed += 1,
            NodeState::Skipped => counts.skipped += 1,
            NodeState::Cancelled => counts.cancelled += 1,
            NodeState::Pending | NodeState::Waiting | NodeState::Queued => counts.pending += 1,
        }
    }
    let active = counts.pending + counts.running > 0;
    let state = if record.cancelled && !active {
        WorkflowState::Cancelled
    } else if record.state == "enqueueing" || record.state == "abandoned" {
        WorkflowState::Incomplete
    } else if active {
        WorkflowState::Running
    } else if counts.succeeded == nodes.len() {
        WorkflowState::Succeeded
    } else if record.cancelled {
        WorkflowState::Cancelled
    } else {
        WorkflowState::Failed
    };
    (state, counts)
}

impl Admin {
    /// The queue holding workflow `id`'s record, found among the known queues.
    pub(crate) async fn workflow_home(&self, id: Uuid) -> Result<QueueKeys, Error> {
        let queues = self.queue_keys_all().await?;
        let index = self
            .store()
            .workflow_queue(&id.to_string(), &queues)
            .await?
            .ok_or(Error::WorkflowNotFound { op: OP, id })?;
        queues
            .into_iter()
            .nth(index)
            .ok_or(Error::WorkflowNotFound { op: OP, id })
    }

    /// Workflow `id`'s record on `home`.
    pub(crate) async fn workflow_record(
        &self,
        home: &QueueKeys,
        id: Uuid,
    ) -> Result<Record, Error> {
        let fields = self.store().workflow_record(home, &id.to_string()).await?;
        if fields.is_empty() {
            return Err(Error::WorkflowNotFound { op: OP, id });
        }
        Record::parse(id, fields)
    }

    /// Workflow `id` with every node's state; [`Error::WorkflowNotFound`]
    /// for an unknown id or a workflow past its retention.
    pub async fn workflow(&self, id: Uuid) -> Result<WorkflowStatus, Error> {
        let home = self.workflow_home(id).await?;
        let record = self.workflow_record(&home, id).await?;
        self.status_of(id, home.name(), &record).await
    }

    pub(crate) async fn status_of(
        &self,
        id: Uuid,
        home: &str,
        record: &Record,
    ) -> Result<WorkflowStatus, Error> {
        let order = record.graph.check()?;
        let depths = record.graph.depths();
        let store = self.store();
        let mut jobs = Vec::with_capacity(order.len());
        for name in &order {
            let node = record
                .graph
                .node(name)
                .ok_or_else(|| Error::protocol(OP, format!("node {name:?} is not in the graph")))?;
            let job_id = record.job_id(name).unwrap_or(Uuid::nil());
            jobs.push((store.queue_keys(&node.queue)?, job_id.to_string()));
        }
        let facts = store.workflow_node_facts(&jobs).await?;
        let mut nodes = Vec::with_capacity(order.len());
        for ((name, (_, job_id)), facts) in order.iter().zip(&jobs).zip(&facts) {
            let Some(shape) = record.graph.node(name) else {
                continue;
            };
            let state = NodeState::from_facts(facts, record.cancelled);
            let error = match state {
                NodeState::Skipped | NodeState::Failed if facts.failed_parent.is_some() => facts
                    .failed_parent
                    .as_ref()
                    .map(|parent| format!("parent job {parent} did not succeed")),
                _ => facts.status_error.clone(),
            };
            nodes.push(NodeStatus {
                name: name.clone(),
                queue: shape.queue.clone(),
                job_type: shape.job_type.clone(),
                job_id: Uuid::parse_str(job_id).unwrap_or(Uuid::nil()),
                state,
                reruns: record.reruns(name),
                depth: depths.get(name).copied().unwrap_or(0),
                error,
            });
        }
        let (state, counts) = roll_up(record, &nodes);
        Ok(WorkflowStatus {
            summary: WorkflowSummary {
                id,
                name: record.name.clone(),
                queue: home.to_owned(),
                created_at: record.created_ms.and_then(DateTime::from_timestamp_millis),
                state,
                counts,
                retries: record.retries,
            },
            nodes,
            edges: record.graph.edges.clone(),
        })
    }

    /// The newest workflows (at most `limit`, up to 500) of every known
    /// queue, or of `queue`, newest first, keeping those in `state` (when
    /// given) and whose name contains `name` (when given).
    pub async fn list_workflows(
        &self,
        queue: Option<&str>,
        state: Option<WorkflowState>,
        name: Option<&str>,
        limit: usize,
    ) -> Result<Vec<WorkflowSummary>, Error> {
        let limit = limit.clamp(1, 500);
        let queues = match queue {
            Some(queue) => vec![self.store().queue_keys(queue)?],
            None => self.queue_keys_all().await?,
        };
        let mut entries: Vec<(i64, String, usize)> = Vec::new();
        for (index, keys) in queues.iter().enumerate() {
            // A filter may drop many: read more than the page.
            let scan = if state.is_some() || name.is_some() {
                limit * 4
            } else {
                limit
            };
            for (id, created) in self.store().workflow_ids(keys, scan).await? {
                entries.push((created, id, index));
            }
        }
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        let mut out = Vec::new();
        for (_, id, index) in entries {
            if out.len() >= limit {
                break;
            }
            let (Ok(id), Some(home)) = (Uuid::parse_str(&id), queues.get(index)) else {
                continue;
            };
            let record = match self.workflow_record(home, id).await {
                Ok(record) => record,
                Err(Error::WorkflowNotFound { .. }) => continue,
                Err(err) => return Err(err),
            };
            if name.is_some_and(|part| !record.name.contains(part)) {
                continue;
            }
            let status = self.status_of(id, home.name(), &record).await?;
            if state.is_some_and(|wanted| wanted != status.summary.state) {
                continue;
            }
            out.push(status.summary);
        }
        Ok(out)
    }
}

impl Client {
    /// Workflow `id` with every node's state; see [`Admin::workflow`].
    pub async fn workflow_status(&self, id: Uuid) -> Result<WorkflowStatus, Error> {
        self.admin().workflow(id).await
    }
}
