//! [`Workflow`]: the builder returned by [`Client::workflow`].

use crate::client::Client;
use crate::client::builder::JobBuilder;
use crate::client::prepared::PreparedJob;
use crate::error::Error;
use crate::job::dependencies::OnParentFailure;
use crate::job::stateful::StatefulJob;
use crate::workflow::graph::{Edge, Graph, NodeShape};

/// Builds a workflow: named nodes (each a typed job, on any queue) and
/// edges between them, then [`Workflow::enqueue`] places them all under one
/// workflow id. Errors in a node (a bad option) surface at `enqueue`.
///
/// ```no_run
/// # use jobqueue_core::{Client, Job, JobContext, JobError, OnParentFailure};
/// # #[derive(serde::Serialize, serde::Deserialize)] struct Fetch { part: u32 }
/// # impl Job for Fetch {
/// #     const NAME: &'static str = "fetch";
/// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
/// # }
/// # #[derive(serde::Serialize, serde::Deserialize)] struct Merge;
/// # impl Job for Merge {
/// #     const NAME: &'static str = "merge";
/// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
/// # }
/// # async fn demo(client: Client) -> Result<(), jobqueue_core::Error> {
/// let id = client
///     .workflow("nightly import")
///     .node("fetch a", client.job(Fetch { part: 1 }))
///     .node("fetch b", client.job(Fetch { part: 2 }).queue("slow"))
///     .node("merge", client.job(Merge))
///     .edge("fetch a", "merge")
///     .edge_with("fetch b", "merge", OnParentFailure::Run)
///     .enqueue()
///     .await?;
/// # let _ = id; Ok(()) }
/// ```
#[must_use = "a Workflow does nothing until .enqueue() is awaited"]
pub struct Workflow<'c> {
    pub(crate) client: &'c Client,
    pub(crate) name: String,
    pub(crate) nodes: Vec<(NodeShape, PreparedJob)>,
    pub(crate) edges: Vec<Edge>,
    pub(crate) error: Option<Error>,
}

impl Client {
    /// Starts a workflow named `name` (shown by the dashboard and the CLI;
    /// 1 to 128 bytes, not unique).
    pub fn workflow(&self, name: impl Into<String>) -> Workflow<'_> {
        Workflow {
            client: self,
            name: name.into(),
            nodes: Vec::new(),
            edges: Vec::new(),
            error: None,
        }
    }
}

impl<'c> Workflow<'c> {
    /// Adds node `name` running `job` (built with [`Client::job`], with any
    /// options but `after`, `id` and uniqueness: the workflow gives those).
    /// Node names are unique in a workflow.
    pub fn node<J: StatefulJob>(mut self, name: impl Into<String>, job: JobBuilder<'_, J>) -> Self {
        let name = name.into();
        match job.prepare_node() {
            Ok(prepared) => {
                let shape = NodeShape {
                    name,
                    queue: prepared.queue.clone(),
                    job_type: J::NAME.to_owned(),
                };
                self.nodes.push((shape, prepared));
            }
            Err(err) => {
                self.error.get_or_insert(err);
            }
        }
        self
    }

    /// Adds an edge: `to` runs after `from` succeeded; if `from` fails
    /// (dies, is skipped or cancelled), `to` is dead-lettered
    /// ([`OnParentFailure::DeadLetter`]).
    pub fn edge(self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.edge_with(from, to, OnParentFailure::DeadLetter)
    }

    /// Adds an edge with its failure policy: what `from` failing does to
    /// `to` — dead-letter it, [`OnParentFailure::Skip`] it (it never runs,
    /// and its own dependents follow their edges' policies),
    /// [`OnParentFailure::Run`] it anyway, or [`OnParentFailure::Wait`] for
    /// an operator's retry of `from`.
    pub fn edge_with(
        mut self,
        from: impl Into<String>,
        to: impl Into<String>,
        policy: OnParentFailure,
    ) -> Self {
        self.edges.push(Edge {
            from: from.into(),
            to: to.into(),
            policy,
        });
        self
    }

    /// The workflow's shape so far.
    pub fn graph(&self) -> Graph {
        Graph {
            nodes: self.nodes.iter().map(|(shape, _)| shape.clone()).collect(),
            edges: self.edges.clone(),
        }
    }
}
