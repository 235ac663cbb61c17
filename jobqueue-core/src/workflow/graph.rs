//! A workflow's shape: named nodes and edges with a failure policy each,
//! checked (unique names, known nodes, no cycle, bounded size) and put in
//! topological order. Pure logic, tested here.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::job::dependencies::{MAX_PARENTS, OnParentFailure};

/// Most nodes one workflow may have.
pub const MAX_WORKFLOW_NODES: usize = 1000;

/// Longest node name or workflow name, in bytes.
pub const MAX_WORKFLOW_NAME_LEN: usize = 128;

const OP: &str = "workflow";

/// One node as recorded: its name, queue and job type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeShape {
    /// The node's name, unique in its workflow.
    pub name: String,
    /// The queue its job runs on.
    pub queue: String,
    /// Its job type.
    #[serde(rename = "type")]
    pub job_type: String,
}

/// One edge: `to` runs after `from`; `policy` says what `from` failing
/// (dying, being skipped or cancelled) does to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// The parent node.
    pub from: String,
    /// The dependent node.
    pub to: String,
    /// What the parent's failure does to the dependent.
    pub policy: OnParentFailure,
}

/// A workflow's nodes and edges, as stored in its record (`graph`, JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    /// The nodes, in the order they were added.
    pub nodes: Vec<NodeShape>,
    /// The edges, in the order they were added.
    pub edges: Vec<Edge>,
}

/// Checks a workflow or node name: 1 to [`MAX_WORKFLOW_NAME_LEN`] bytes,
/// no control characters.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > MAX_WORKFLOW_NAME_LEN {
        return Err(Error::invalid(
            OP,
            format!("a {what} name must be 1 to {MAX_WORKFLOW_NAME_LEN} bytes, got {name:?}"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            OP,
            format!("a {what} name must not hold control characters: {name:?}"),
        ));
    }
    Ok(())
}

impl Graph {
    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&NodeShape> {
        self.nodes.iter().find(|node| node.name == name)
    }

    /// The edges into `name`, in the order they were added.
    pub fn parents_of<'g>(&'g self, name: &'g str) -> impl Iterator<Item = &'g Edge> + 'g {
        self.edges.iter().filter(move |edge| edge.to == name)
    }

    /// Checks the graph and returns its node names in topological order
    /// (parents before children; ties in the order nodes were added).
    pub fn check(&self) -> Result<Vec<String>, Error> {
        if self.nodes.is_empty() {
            return Err(Error::invalid(OP, "a workflow needs at least one node"));
        }
        if self.nodes.len() > MAX_WORKFLOW_NODES {
            return Err(Error::invalid(
                OP,
                format!(
                    "a workflow may have at most {MAX_WORKFLOW_NODES} nodes, got {}",
                    self.nodes.len()
                ),
            ));
        }
        let mut names = HashSet::new();
        for node in &self.nodes {
            check_name("node", &node.name)?;
            if !names.insert(node.name.as_str()) {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "two nodes are named {:?}: node names must be unique",
                        node.name
                    ),
                ));
            }
        }
        let mut seen_edges = HashSet::new();
        for edge in &self.edges {
            for end in [&edge.from, &edge.to] {
                if !names.contains(end.as_str()) {
                    return Err(Error::invalid(
                        OP,
                        format!(
                            "edge {:?} -> {:?} names an unknown node {end:?}",
                            edge.from, edge.to
                        ),
                    ));
                }
            }
            if edge.from == edge.to {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "edge {:?} -> {:?} is a cycle: a node cannot wait for itself",
                        edge.from, edge.to
                    ),
                ));
            }
            if !seen_edges.insert((edge.from.as_str(), edge.to.as_str())) {
                return Err(Error::invalid(
                    OP,
                    format!("edge {:?} -> {:?} is given twice", edge.from, edge.to),
                ));
            }
        }
        for node in &self.nodes {
            if self.parents_of(&node.name).count() > MAX_PARENTS {
                return Err(Error::invalid(
                    OP,
                    format!("node {:?} has more than {MAX_PARENTS} parents", node.name),
                ));
            }
        }
        self.topological_order()
    }

    /// Kahn's algorithm; an error naming the nodes on a cycle.
    fn topological_order(&self) -> Result<Vec<String>, Error> {
        let mut indegree: HashMap<&str, usize> = self
            .nodes
            .iter()
            .map(|node| (node.name.as_str(), 0))
            .collect();
        for edge in &self.edges {
            *indegree.entry(edge.to.as_str()).or_default() += 1;
        }
        let mut ready: VecDeque<&str> = self
            .nodes
            .iter()
            .map(|node| node.name.as_str())
            .filter(|name| indegree.get(name) == Some(&0))
            .collect();
        let mut order = Vec::with_capacity(self.nodes.len());
        while let Some(name) = ready.pop_front() {
            order.push(name.to_owned());
            for edge in self.edges.iter().filter(|edge| edge.from == name) {
                if let Some(count) = indegree.get_mut(edge.to.as_str()) {
                    *count -= 1;
                    if *count == 0 {
                        ready.push_back(edge.to.as_str());
                    }
                }
            }
        }
        if order.len() < self.nodes.len() {
            let mut on_cycle: Vec<&str> = self
                .nodes
                .iter()
                .map(|node| node.name.as_str())
                .filter(|name| indegree.get(name).is_some_and(|count| *count > 0))
                .collect();
            on_cycle.truncate(10);
            return Err(Error::invalid(
                OP,
                format!("the edges form a cycle through {on_cycle:?}: a workflow must be acyclic"),
            ));
        }
        Ok(order)
    }

    /// `start` and every node downstream of it, in topological order.
    pub fn downstream(&self, start: &str) -> Result<Vec<String>, Error> {
        let order = self.check()?;
        let mut reached: HashSet<&str> = HashSet::from([start]);
        for name in &order {
            if self
                .parents_of(name)
                .any(|edge| reached.contains(edge.from.as_str()))
            {
                reached.insert(name.as_str());
            }
        }
        Ok(order
            .iter()
            .filter(|name| reached.contains(name.as_str()))
            .cloned()
            .collect())
    }

    /// Each node's depth: 0 for a root, else one more than its deepest
    /// parent (the graph's drawing puts a node in the layer of its depth).
    pub fn depths(&self) -> HashMap<String, usize> {
        let mut depths: HashMap<String, usize> = HashMap::new();
        let order = self
            .topological_order()
            .unwrap_or_else(|_| self.nodes.iter().map(|node| node.name.clone()).collect());
        for name in &order {
            let depth = self
                .parents_of(name)
                .filter_map(|edge| depths.get(&edge.from))
                .map(|depth| depth + 1)
                .max()
                .unwrap_or(0);
            depths.insert(name.clone(), depth);
        }
        depths
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(nodes: &[&str], edges: &[(&str, &str)]) -> Graph {
        Graph {
            nodes: nodes
                .iter()
                .map(|name| NodeShape {
                    name: (*name).to_owned(),
                    queue: "q".to_owned(),
                    job_type: "t".to_owned(),
                })
                .collect(),
            edges: edges
                .iter()
                .map(|(from, to)| Edge {
                    from: (*from).to_owned(),
                    to: (*to).to_owned(),
                    policy: OnParentFailure::DeadLetter,
                })
                .collect(),
        }
    }

    #[test]
    fn orders_parents_before_children() {
        let g = graph(&["c", "a", "b"], &[("a", "c"), ("b", "c"), ("a", "b")]);
        assert_eq!(g.check().unwrap(), ["a", "b", "c"]);
        assert_eq!(g.downstream("b").unwrap(), ["b", "c"]);
        assert_eq!(g.depths()["c"], 2);
    }

    #[test]
    fn refuses_bad_shapes_with_clear_errors() {
        let cases = [
            (graph(&[], &[]), "at least one node"),
            (graph(&["a", "a"], &[]), "two nodes are named"),
            (graph(&["a"], &[("a", "x")]), "unknown node \"x\""),
            (graph(&["a"], &[("a", "a")]), "cannot wait for itself"),
            (graph(&["a", "b"], &[("a", "b"), ("a", "b")]), "given twice"),
            (
                graph(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("c", "b")]),
                "cycle",
            ),
            (graph(&[""], &[]), "1 to 128 bytes"),
            (graph(&["a\nb"], &[]), "control characters"),
        ];
        for (g, expected) in cases {
            let err = g.check().unwrap_err().to_string();
            assert!(err.contains(expected), "{err} should say {expected}");
        }
        let names: Vec<String> = (0..=MAX_WORKFLOW_NODES).map(|n| n.to_string()).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        assert!(
            graph(&refs, &[])
                .check()
                .unwrap_err()
                .to_string()
                .contains("at most 1000")
        );
    }
}
