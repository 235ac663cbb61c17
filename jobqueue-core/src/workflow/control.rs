//! Acting on a whole workflow: cancel it, or retry it from a failed node.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use serde::Serialize;
use uuid::Uuid;

use crate::admin::Admin;
use crate::client::Client;
use crate::client::prepared::{Destination, PreparedJob};
use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::ops::workflow_mark::MarkOutcome;
use crate::wire::record::{Envelope, decode_record, encode_record};
use crate::workflow::enqueue::{Gate, PlacedNode, link_node, node_fields, place_or_abandon};
use crate::workflow::status::{NodeState, NodeStatus, Record, WorkflowStatus};
use crate::workflow::{WorkflowRef, retention_ms};

const OP: &str = "workflow";

/// What [`Client::retry_workflow_from`] enqueued: each re-run node's name
/// and its new job id, in topological order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryReport {
    /// The workflow id.
    pub workflow: Uuid,
    /// (node, new job id) for the node retried from and every node
    /// downstream of it.
    pub enqueued: Vec<(String, Uuid)>,
}

impl Admin {
    /// Cancels workflow `id`: marks it cancelled, then cancels every node
    /// that may still run, the deepest first (so no dependent is released
    /// by the cancellation of its parent). Returns how many node jobs were
    /// cancelled. Nodes that already ended keep their outcome.
    pub async fn cancel_workflow(&self, id: Uuid) -> Result<usize, Error> {
        let home = self.workflow_home(id).await?;
        let now = Utc::now().timestamp_millis().to_string();
        let mark = [("cancelled".to_owned(), now)];
        if self
            .store()
            .mark_workflow(&home, &id.to_string(), retention_ms(), None, &mark)
            .await?
            == MarkOutcome::Gone
        {
            return Err(Error::WorkflowNotFound { op: OP, id });
        }
        let record = self.workflow_record(&home, id).await?;
        let status = self.status_of(id, home.name(), &record).await?;
        self.cancel_nodes(&status, |_| true).await
    }

    /// Cancels the nodes of `status` that may still run and `pick` names,
    /// deepest first (an incomplete workflow's nodes count as active: the
    /// producer may have placed them).
    async fn cancel_nodes(
        &self,
        status: &WorkflowStatus,
        pick: impl Fn(&str) -> bool,
    ) -> Result<usize, Error> {
        let mut cancelled = 0;
        for node in status.nodes.iter().rev() {
            if !pick(&node.name) || !(node.state.is_active() || node.state == NodeState::Unknown) {
                continue;
            }
            match self.cancel(&node.queue, node.job_id).await? {
                crate::CancelOutcome::Cancelled { .. } => cancelled += 1,
                // Not where a job waits or runs, yet not ended: never
                // placed (its producer stopped mid-enqueue) or gone. Its
                // status must not say it still waits.
                crate::CancelOutcome::NotFound => self.mark_node_cancelled(node).await?,
            }
        }
        Ok(cancelled)
    }
}

impl Admin {
    /// Deletes the dead jobs of the nodes a retry re-runs: their new jobs
    /// replace them, and an operator's "retry all dead" must not run them
    /// a second time.
    async fn drop_dead_nodes(
        &self,
        status: &WorkflowStatus,
        rerun: &HashSet<&str>,
    ) -> Result<(), Error> {
        for node in &status.nodes {
            if node.state == NodeState::Failed && rerun.contains(node.name.as_str()) {
                self.delete(&node.queue, crate::JobSet::Dead, &[node.job_id])
                    .await?;
            }
        }
        Ok(())
    }

    async fn mark_node_cancelled(&self, node: &NodeStatus) -> Result<(), Error> {
        let keys = self.store().queue_keys(&node.queue)?;
        let now = Utc::now().timestamp_millis().to_string();
        self.store()
            .update_status(
                &keys,
                &node.job_id.to_string(),
                &now,
                &[("state", NodeState::Cancelled.as_str())],
                retention_ms(),
            )
            .await
    }
}

impl Admin {
    /// Retries workflow `id` from node `node`; see
    /// [`Client::retry_workflow_from`]. Enqueues through a client over
    /// this admin's store (its connection and prefix, default settings).
    pub async fn retry_workflow_from(&self, id: Uuid, node: &str) -> Result<RetryReport, Error> {
        Client::over_store(self.store().clone())
            .retry_workflow_from(id, node)
            .await
    }
}

impl Client {
    /// Cancels workflow `id`; see [`Admin::cancel_workflow`].
    pub async fn cancel_workflow(&self, id: Uuid) -> Result<usize, Error> {
        self.admin().cancel_workflow(id).await
    }

    /// Re-runs node `node` of workflow `id` and every node downstream of
    /// it, keeping what succeeded: each gets a fresh job (from the node's
    /// record as first enqueued) that waits `after` its parents — the new
    /// jobs of re-run parents, the original jobs of the others, whose
    /// dependency records and results are kept 30 days. `node` must have
    /// failed, been skipped or cancelled; nodes downstream that may still
    /// run are cancelled first, and the re-run nodes' dead jobs are
    /// deleted from their dead sets (their new jobs replace them). Retries of
    /// one workflow are serialized: of two at once, from any nodes, one
    /// claims the record (its generation) and the other fails with a
    /// conflict error before changing anything; a retry while the workflow
    /// is still being placed is refused.
    pub async fn retry_workflow_from(&self, id: Uuid, node: &str) -> Result<RetryReport, Error> {
        let admin = self.admin();
        let home = admin.workflow_home(id).await?;
        let record = admin.workflow_record(&home, id).await?;
        let status = admin.status_of(id, home.name(), &record).await?;
        let Some(from) = status.node(node) else {
            return Err(Error::invalid(
                OP,
                format!("workflow {id} has no node {node:?}"),
            ));
        };
        if !matches!(
            from.state,
            NodeState::Failed | NodeState::Skipped | NodeState::Cancelled
        ) {
            return Err(Error::WorkflowConflict {
                op: OP,
                id,
                detail: format!(
                    "node {node:?} is {}: only a failed, skipped or cancelled node can be retried",
                    from.state.as_str()
                ),
            });
        }
        if record.state == "enqueueing" && !record.cancelled {
            return Err(Error::WorkflowConflict {
                op: OP,
                id,
                detail: "it is being enqueued (or retried) right now: retry once it is placed, or cancel it"
                    .to_owned(),
            });
        }
        let rerun = record.graph.downstream(node)?;
        let rerun_set: HashSet<&str> = rerun.iter().map(String::as_str).collect();
        let nodes = fresh_jobs(&record, id, home.name(), &rerun)?;
        self.claim_retry(&home, id, &record, &status, &rerun, &nodes)
            .await?;
        // Only the retry that claimed the record gets here: it alone
        // cancels what it replaces.
        admin
            .cancel_nodes(&status, |name| rerun_set.contains(name))
            .await?;
        admin.drop_dead_nodes(&status, &rerun_set).await?;
        let enqueued = nodes
            .iter()
            .map(|node| (node.name.clone(), node.job.id))
            .collect();
        place_or_abandon(self, home.name(), id, nodes, Gate::None).await?;
        Ok(RetryReport {
            workflow: id,
            enqueued,
        })
    }
}

impl Client {
    /// Claims workflow `id`'s record for a retry re-running `rerun` as
    /// `nodes`: writes their new job ids, their rerun counts and state
    /// `enqueueing`, guarded by the record's generation (its `retries`
    /// count, as read into `record`) — so of two retries at once, from any
    /// nodes, only one claims it, and the other fails with a conflict.
    async fn claim_retry(
        &self,
        home: &QueueKeys,
        id: Uuid,
        record: &Record,
        status: &WorkflowStatus,
        rerun: &[String],
        nodes: &[PlacedNode],
    ) -> Result<(), Error> {
        let mut fields = node_fields(nodes);
        for name in rerun {
            let reruns = status.node(name).map_or(0, |n| n.reruns) + 1;
            fields.push((format!("r:{name}"), reruns.to_string()));
        }
        fields.push(("retries".to_owned(), (record.retries + 1).to_string()));
        fields.push(("state".to_owned(), "enqueueing".to_owned()));
        let generation = record.fields.get("retries").map_or("", String::as_str);
        match self
            .store()
            .mark_workflow(
                home,
                &id.to_string(),
                retention_ms(),
                Some(("retries", generation)),
                &fields,
            )
            .await?
        {
            MarkOutcome::Written => Ok(()),
            MarkOutcome::Gone => Err(Error::WorkflowNotFound { op: OP, id }),
            MarkOutcome::Moved => Err(Error::WorkflowConflict {
                op: OP,
                id,
                detail: "it was retried by someone else meanwhile".to_owned(),
            }),
        }
    }
}

/// Fresh jobs for the nodes `rerun` (topological order), from their
/// templates: new ids, no attempts or errors, parents linked to the new
/// jobs of re-run parents and the current jobs of the others.
fn fresh_jobs(
    record: &Record,
    workflow_id: Uuid,
    home: &str,
    rerun: &[String],
) -> Result<Vec<PlacedNode>, Error> {
    let mut ids: HashMap<String, (String, Uuid)> = HashMap::new();
    for shape in &record.graph.nodes {
        if let Some(job_id) = record.job_id(&shape.name) {
            ids.insert(shape.name.clone(), (shape.queue.clone(), job_id));
        }
    }
    let mut nodes = Vec::with_capacity(rerun.len());
    for name in rerun {
        let (Some(shape), Some(template)) = (record.graph.node(name), record.template(name)) else {
            return Err(Error::invalid(
                OP,
                format!("node {name:?} has no stored job to enqueue again"),
            ));
        };
        let (envelope, payload) = decode_record(template.as_bytes())?;
        let envelope = fresh_envelope(envelope);
        let job = PreparedJob {
            id: envelope.id,
            queue: shape.queue.clone(),
            record: encode_record(&envelope, payload)?,
            destination: if envelope.priority != 0 || envelope.flow.is_some() {
                Destination::Priority
            } else {
                Destination::Ready
            },
            unique: None,
            dependents: true,
            after: Vec::new(),
            on_parent_failure: Default::default(),
            given_id: false,
            track: true,
            idempotency: None,
        };
        ids.insert(name.clone(), (shape.queue.clone(), job.id));
        nodes.push(PlacedNode {
            name: name.clone(),
            job,
        });
    }
    let reference = |node: &str| WorkflowRef {
        id: workflow_id,
        queue: home.to_owned(),
        node: node.to_owned(),
    };
    for node in &mut nodes {
        link_node(
            &mut node.job,
            &record.graph,
            &node.name,
            &reference(&node.name),
            &ids,
        )?;
    }
    Ok(nodes)
}

/// A node's envelope for a new run: a new id, no history.
fn fresh_envelope(mut envelope: Envelope) -> Envelope {
    envelope.id = Uuid::now_v7();
    envelope.attempt = 0;
    envelope.errors.clear();
    envelope.run_at = None;
    envelope.after.clear();
    envelope.dependents = true;
    envelope.track = true;
    envelope
}
