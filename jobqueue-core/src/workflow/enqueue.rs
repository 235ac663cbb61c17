//! Placing a workflow's nodes, all or nothing.
//!
//! 1. `workflow_open.lua` records the workflow (state `enqueueing`) with
//!    every node's job id and the node's record as enqueued (`j:<node>`,
//!    kept so a retry can enqueue the node again);
//! 2. every node's dependency record is opened (`parent_open.lua`), and so
//!    is the workflow's gate: a dependency record named by the workflow id
//!    on its home queue, that every root waits for;
//! 3. every node goes, in topological order, to its queue's waiting place
//!    — none can run: the roots wait for the shut gate, the others for
//!    their parents;
//! 4. `workflow_gate.lua` opens the gate and marks the record `placed` in
//!    one step (unless the workflow was cancelled meanwhile): from then on
//!    the roots run.
//!
//! A failure in 2–3 cancels the nodes already placed (none has run) and
//! marks the record `abandoned`. A failure of step 4 cancels nothing (the
//! gate may have opened). A producer that dies before step 4 leaves the
//! record in `enqueueing`: no node has run or ever will, the status shows
//! the workflow incomplete, and cancelling it removes the nodes it placed.
//!
//! A retry (`workflow/control.rs`) places one entry node, the node
//! retried from, without a gate: it goes last, after every re-run node
//! downstream of it is waiting.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::client::Client;
use crate::client::after::delay_ms;
use crate::client::options::ParentSpec;
use crate::client::prepared::PreparedJob;
use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::ops::workflow_gate::GateOutcome;
use crate::wire::record::{decode_record, encode_record};
use crate::workflow::graph::{Graph, check_name};
use crate::workflow::{MAX_LISTED_WORKFLOWS, Workflow, WorkflowRef, retention_ms};

const OP: &str = "workflow";

/// One node ready to place: its name and its job.
pub(crate) struct PlacedNode {
    pub(crate) name: String,
    pub(crate) job: PreparedJob,
}

impl Workflow<'_> {
    /// Checks the workflow and enqueues every node (see the module docs);
    /// returns the workflow id. Nothing runs until every node is placed.
    pub async fn enqueue(self) -> Result<Uuid, Error> {
        if let Some(err) = self.error {
            return Err(err);
        }
        check_name("workflow", &self.name)?;
        let graph = Graph {
            nodes: self.nodes.iter().map(|(shape, _)| shape.clone()).collect(),
            edges: self.edges.clone(),
        };
        let order = graph.check()?;
        let workflow_id = Uuid::now_v7();
        let home = graph.nodes[0].queue.clone();
        let mut jobs: HashMap<String, PreparedJob> = self
            .nodes
            .into_iter()
            .map(|(shape, job)| (shape.name, job))
            .collect();
        let ids: HashMap<String, (String, Uuid)> = jobs
            .iter()
            .map(|(name, job)| (name.clone(), (job.queue.clone(), job.id)))
            .collect();
        let mut placed = Vec::with_capacity(order.len());
        for name in &order {
            let Some(mut job) = jobs.remove(name) else {
                return Err(Error::protocol(OP, format!("node {name:?} has no job")));
            };
            let reference = WorkflowRef {
                id: workflow_id,
                queue: home.clone(),
                node: name.clone(),
            };
            link_node(&mut job, &graph, name, &reference, &ids)?;
            if graph.parents_of(name).next().is_none() {
                job.after
                    .push(ParentSpec::from((home.clone(), workflow_id)));
            }
            placed.push(PlacedNode {
                name: name.clone(),
                job,
            });
        }
        let graph_json = serde_json::to_string(&graph).map_err(|e| Error::Encode {
            op: OP,
            job_type: "workflow".to_owned(),
            source: e,
        })?;
        let mut fields = vec![
            ("name".to_owned(), self.name.clone()),
            ("graph".to_owned(), graph_json),
            ("retries".to_owned(), "0".to_owned()),
        ];
        fields.extend(node_fields(&placed));
        let client = self.client;
        let store = client.store();
        let home_keys = store.queue_keys(&home)?;
        if !store
            .open_workflow(
                &home_keys,
                &workflow_id.to_string(),
                retention_ms(),
                MAX_LISTED_WORKFLOWS,
                &fields,
            )
            .await?
        {
            return Err(Error::protocol(
                OP,
                format!("workflow id {workflow_id} is taken"),
            ));
        }
        place_or_abandon(client, &home, workflow_id, placed, Gate::Shut).await?;
        Ok(workflow_id)
    }
}

/// The record fields naming each node's job: `n:<node>` its id,
/// `j:<node>` its record (the template a retry enqueues again).
pub(crate) fn node_fields(nodes: &[PlacedNode]) -> Vec<(String, String)> {
    let mut fields = Vec::with_capacity(nodes.len() * 2);
    for node in nodes {
        fields.push((format!("n:{}", node.name), node.job.id.to_string()));
        fields.push((
            format!("j:{}", node.name),
            String::from_utf8_lossy(&node.job.record).into_owned(),
        ));
    }
    fields
}

/// Gives node `name`'s job its parents (its edges, each with its policy,
/// to the parents' job ids in `ids`) and its workflow reference.
pub(crate) fn link_node(
    job: &mut PreparedJob,
    graph: &Graph,
    name: &str,
    reference: &WorkflowRef,
    ids: &HashMap<String, (String, Uuid)>,
) -> Result<(), Error> {
    job.after = graph
        .parents_of(name)
        .map(|edge| {
            let (queue, id) = ids.get(&edge.from).ok_or_else(|| {
                Error::protocol(OP, format!("parent node {:?} has no job", edge.from))
            })?;
            Ok(ParentSpec::from((queue.clone(), *id)).with_policy(edge.policy))
        })
        .collect::<Result<_, Error>>()?;
    let (mut envelope, payload) = decode_record(&job.record)?;
    envelope.workflow = Some(reference.clone());
    job.record = encode_record(&envelope, payload)?;
    Ok(())
}

/// Whether the entry nodes wait for the workflow's gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// The roots wait for the gate (a new workflow): opened at the end.
    Shut,
    /// No gate (a retry): its one entry node is placed last.
    None,
}

/// Places `nodes` (in topological order); on failure cancels what was
/// placed and marks the record `abandoned`. Then opens the gate and marks
/// the record `placed` (with [`Gate::Shut`]), or marks it `placed`.
pub(crate) async fn place_or_abandon(
    client: &Client,
    home: &str,
    workflow_id: Uuid,
    nodes: Vec<PlacedNode>,
    gate: Gate,
) -> Result<(), Error> {
    let store = client.store();
    let home_keys = store.queue_keys(home)?;
    let id_text = workflow_id.to_string();
    let gate_record = (gate == Gate::Shut).then(|| (home_keys.clone(), workflow_id, 0));
    let mut placed: Vec<(String, Uuid)> = Vec::new();
    if let Err(err) = place(client, nodes, gate_record, &mut placed).await {
        abandon(client, &home_keys, workflow_id, &placed).await;
        return Err(err);
    }
    if gate == Gate::None {
        let state = [("state".to_owned(), "placed".to_owned())];
        store
            .mark_workflow(&home_keys, &id_text, retention_ms(), None, &state)
            .await?;
        return Ok(());
    }
    // From here on a root may run: an error cancels nothing.
    match store
        .open_workflow_gate(&home_keys, &id_text, retention_ms())
        .await?
    {
        GateOutcome::Opened(Some(entry)) => {
            store.apply_releases(&home_keys, &[entry]).await?;
            Ok(())
        }
        GateOutcome::Opened(None) => Ok(()),
        GateOutcome::Gone => Err(Error::WorkflowNotFound {
            op: OP,
            id: workflow_id,
        }),
        GateOutcome::Shut => Err(Error::invalid(
            OP,
            format!("workflow {workflow_id} was cancelled while its nodes were placed: none ran"),
        )),
    }
}

/// Cancels the nodes `placed` (none has run: they wait for the shut gate
/// or for parents that did not run) and marks the record `abandoned`.
async fn abandon(
    client: &Client,
    home_keys: &QueueKeys,
    workflow_id: Uuid,
    placed: &[(String, Uuid)],
) {
    for (queue, id) in placed.iter().rev() {
        if let Err(cancel_err) = client.cancel(queue, *id).await {
            tracing::warn!(%id, error = %cancel_err, "could not cancel a node of an abandoned workflow");
        }
    }
    let state = [("state".to_owned(), "abandoned".to_owned())];
    if let Err(mark_err) = client
        .store()
        .mark_workflow(
            home_keys,
            &workflow_id.to_string(),
            retention_ms(),
            None,
            &state,
        )
        .await
    {
        tracing::warn!(workflow = %workflow_id, error = %mark_err, "could not mark an abandoned workflow");
    }
}

/// Opens every node's dependency record (and the gate's), then enqueues
/// the nodes with a parent among `nodes` (in order), then the entry nodes.
async fn place(
    client: &Client,
    nodes: Vec<PlacedNode>,
    gate: Option<(QueueKeys, Uuid, u64)>,
    placed: &mut Vec<(String, Uuid)>,
) -> Result<(), Error> {
    let store = client.store();
    let mut opens = nodes
        .iter()
        .map(|node| {
            Ok((
                store.queue_keys(&node.job.queue)?,
                node.job.id,
                delay_ms(node.job.destination),
            ))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    opens.extend(gate);
    store.open_parents(&opens).await?;
    let inner_ids: HashSet<Uuid> = nodes.iter().map(|node| node.job.id).collect();
    let (inner, entry): (Vec<PlacedNode>, Vec<PlacedNode>) = nodes.into_iter().partition(|node| {
        node.job
            .after
            .iter()
            .any(|parent| inner_ids.contains(&parent.id))
    });
    for node in inner.into_iter().chain(entry) {
        let (queue, id) = (node.job.queue.clone(), node.job.id);
        let mut job = node.job;
        // Its dependency record is open (above): the send need not open it
        // again (the envelope still says `dependents`, for the worker).
        job.dependents = false;
        client.send_one(job).await?;
        placed.push((queue, id));
    }
    Ok(())
}
