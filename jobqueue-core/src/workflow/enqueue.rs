//! Placing a workflow's nodes, all or nothing.
//!
//! 1. `workflow_open.lua` records the workflow (state `enqueueing`) with
//!    every node's job id and the node's record as enqueued (`j:<node>`,
//!    kept so a retry can enqueue the node again);
//! 2. every node's dependency record is opened (`parent_open.lua`), so any
//!    node can be linked to its parents before they are placed;
//! 3. the nodes with a parent among the nodes being placed go first, in
//!    topological order, to their queues' waiting places — none can run,
//!    since none of their parents has run;
//! 4. the entry nodes (the workflow's roots; for a retry, the node retried
//!    from) go last: from then on the workflow runs;
//! 5. the record says `placed`.
//!
//! A failure in 2–4 cancels the nodes already placed and marks the record
//! `abandoned`. A producer that dies in 2–4 leaves the record in
//! `enqueueing`: nothing has run (no entry node was placed), the status
//! shows the workflow incomplete, and cancelling it removes the nodes it
//! placed.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::client::Client;
use crate::client::after::delay_ms;
use crate::client::options::ParentSpec;
use crate::client::prepared::PreparedJob;
use crate::error::Error;
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
        place_or_abandon(client, &home, workflow_id, placed).await?;
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

/// Places `nodes` (in topological order); on failure cancels what was
/// placed and marks the record `abandoned`. Marks it `placed` at the end.
pub(crate) async fn place_or_abandon(
    client: &Client,
    home: &str,
    workflow_id: Uuid,
    nodes: Vec<PlacedNode>,
) -> Result<(), Error> {
    let store = client.store();
    let home_keys = store.queue_keys(home)?;
    let id_text = workflow_id.to_string();
    let mut placed: Vec<(String, Uuid)> = Vec::new();
    if let Err(err) = place(client, nodes, &mut placed).await {
        for (queue, id) in placed.iter().rev() {
            if let Err(cancel_err) = client.cancel(queue, *id).await {
                tracing::warn!(%id, error = %cancel_err, "could not cancel a node of an abandoned workflow");
            }
        }
        let state = [("state".to_owned(), "abandoned".to_owned())];
        if let Err(mark_err) = store
            .mark_workflow(&home_keys, &id_text, retention_ms(), None, &state)
            .await
        {
            tracing::warn!(workflow = %workflow_id, error = %mark_err, "could not mark an abandoned workflow");
        }
        return Err(err);
    }
    let state = [("state".to_owned(), "placed".to_owned())];
    store
        .mark_workflow(&home_keys, &id_text, retention_ms(), None, &state)
        .await?;
    Ok(())
}

/// Opens every node's dependency record, then enqueues the nodes with a
/// parent among `nodes` (in order), then the entry nodes.
async fn place(
    client: &Client,
    nodes: Vec<PlacedNode>,
    placed: &mut Vec<(String, Uuid)>,
) -> Result<(), Error> {
    let store = client.store();
    let opens = nodes
        .iter()
        .map(|node| {
            Ok((
                store.queue_keys(&node.job.queue)?,
                node.job.id,
                delay_ms(node.job.destination),
            ))
        })
        .collect::<Result<Vec<_>, Error>>()?;
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
